#!/usr/bin/env bash
# The README's main command: installs what is missing, builds a release kvbench, lists the
# adapters, runs the default (`quick`) suite and leaves results, a Markdown report and plots
# in results/latest/.
#   scripts/run-default.sh [extra `kvbench run` flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
KVBENCH=build/release/harness/kvbench
OUT=${KVB_OUT:-results/latest}
"$KVBENCH" list
# The run exits non-zero on errors or verification mismatches; still write the report.
status=0
"$KVBENCH" run --suite quick --out "$OUT" "$@" || status=$?
"$KVBENCH" report "$OUT"
echo "results: $OUT/results.json"
echo "report:  $OUT/report.md (plots in $OUT/plots/)"
exit $status
