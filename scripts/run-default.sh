#!/usr/bin/env bash
# The README's main command: installs what is missing, builds a release kvbench, lists the
# adapters, runs the default (`quick`) suite and leaves results, a Markdown report and plots
# in kvbench-out/<UTC time>/, with kvbench-out/latest pointing at it (results/README.md:
# the one output-folder convention). KVB_OUT=DIR writes to DIR instead (no link).
#   scripts/run-default.sh [extra `kvbench run` flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
KVBENCH=build/release/harness/kvbench
# The same name kvbench run gives a folder of its own (harness/cli.cc Timestamp).
OUT=${KVB_OUT:-kvbench-out/$(date -u +%Y%m%d-%H%M%S)}
"$KVBENCH" list
# The run exits non-zero on errors or verification mismatches; still write the report.
status=0
"$KVBENCH" run --suite quick --out "$OUT" "$@" || status=$?
"$KVBENCH" report "$OUT"
if [ -z "${KVB_OUT:-}" ]; then
  ln -sfn "$(basename "$OUT")" kvbench-out/latest
  OUT=kvbench-out/latest
fi
echo "results: $OUT/results.json"
echo "report:  $OUT/report.md (plots in $OUT/plots/)"
exit $status
