#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, preset `fuzz` -> build/fuzz) and runs each one for N
# seconds on a seed corpus made by the engines (kvb_fuzz_seeds) plus the committed
# regression inputs in fuzz/corpus/<target>/:
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     default 10 (CI); e.g. 600 for a real session
# Environment: FUZZ_TARGETS="a b" runs only those targets; KVB_JOBS = build parallelism.
# Prints one line per target (executions, crashes) and exits non-zero if any target crashed,
# leaked or violated a property; the reproducer is saved as build/fuzz/artifacts/<target>-*
# (replay: build/fuzz/fuzz/<target> <file>).
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
build=build/fuzz

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev)"; exit 1
fi
echo "== build fuzz"
cmake --preset fuzz >/dev/null || { echo "fuzz: configure failed"; exit 1; }
cmake --build --preset fuzz -- -j"${KVB_JOBS:-$(nproc)}" >"$build/fuzz-build.log" 2>&1 ||
  { tail -n 30 "$build/fuzz-build.log"; echo "fuzz: build failed"; exit 1; }

corpus=$build/corpus
artifacts=$build/artifacts
mkdir -p "$corpus" "$artifacts"
"$build/fuzz/kvb_fuzz_seeds" "$corpus" || { echo "fuzz: seed generation failed"; exit 1; }

targets=${FUZZ_TARGETS:-$(cd "$build/fuzz" && ls -1 | grep -E '_fuzz$' | sort)}
status=0
total_execs=0
for t in $targets; do
  exe=$build/fuzz/$t
  [ -x "$exe" ] || { echo "fuzz: no target $t"; status=1; continue; }
  mkdir -p "$corpus/$t"
  dirs=("$corpus/$t")  # new interesting inputs are written to the first directory
  [ -d "fuzz/corpus/$t" ] && dirs+=("fuzz/corpus/$t")
  log=$build/$t.log
  rm -f "$artifacts/$t"-*
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
    "$exe" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "${dirs[@]}" >"$log" 2>&1
  rc=$?
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -n 1)
  execs=${execs:-0}
  crashes=$(ls "$artifacts/$t"-* 2>/dev/null | wc -l)
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
  total_execs=$((total_execs + execs))
  printf 'fuzz: %-28s %10s executions  %s crashes  (%s s)\n' "$t" "$execs" "$crashes" "$secs"
  if [ "$crashes" -ne 0 ]; then
    status=1
    grep -E 'ERROR|FUZZ PROPERTY|SUMMARY|#0 |#1 |#2 |#3 ' "$log" | head -n 12
    ls "$artifacts/$t"-* 2>/dev/null | sed 's/^/  reproducer: /'
  fi
done
echo "fuzz: $total_execs executions in total, exit $status"
exit $status
