#!/usr/bin/env bash
# The README's main command: installs what is missing, builds a release kvbench, lists the
# adapters, runs the default (`quick`) suite and leaves results (and, where the report tool is
# built, a report and plots) in results/latest/.
#   scripts/run-default.sh [extra `kvbench run` flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
KVBENCH=build/release/harness/kvbench
OUT=${KVB_OUT:-results/latest}
"$KVBENCH" list
"$KVBENCH" run --suite quick --out "$OUT" "$@"
if "$KVBENCH" help report >/dev/null 2>&1 || "$KVBENCH" report --help >/dev/null 2>&1; then
  "$KVBENCH" report "$OUT"
fi
echo "results: $OUT/results.json"
[ -f "$OUT/report.md" ] && echo "report:  $OUT/report.md (plots in $OUT/plots/)"
exit 0
