#!/bin/bash
# Counts the `duplicates` pairs in production code: pairs with neither side in tests, fuzz,
# bench, the examples or the test-support library (core/testing). Needs the `duplicates` tool
# of the development machine (not a Debian package). Usage: scripts/dup-count.sh [DIR]
# Prints the total line, the production count, and the production pairs.
set -uo pipefail
repo=${1:-.}
all=$(mktemp) && trap 'rm -f "$all"' EXIT
duplicates --repo "$repo" --most 200 --seconds 120 > "$all"
head -1 "$all"
pairs=$(grep -E '^D[0-9]+ ' "$all" | awk '{print $2, $4}' |
  grep -vE '(^| )[^ ]*(tests/|_test\.cc|fuzz/|bench/|examples/|core/testing/)')
echo "production pairs: $(printf '%s\n' "$pairs" | grep -c .)"
printf '%s\n' "$pairs"
