#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test:
#   1. release build, all tests;
#   2. ASan+UBSan build, tests labelled `sanitize` (core, engines, adapter conformance);
#   3. TSan build, the same tests.
# Ends with one line "tests: N passed, M failed". Exit status non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

scripts/install-deps.sh || exit 1

passed=0
failed=0
status=0
run_preset() {  # run_preset PRESET [ctest args...]
  local preset=$1; shift
  echo "== build $preset"
  if ! scripts/build.sh "$preset"; then
    echo "== build $preset FAILED"; failed=$((failed + 1)); status=1; return
  fi
  echo "== test $preset"
  local log="build/$preset/ctest.log"
  ctest --test-dir "build/$preset" --output-on-failure -j"${KVB_JOBS:-$(nproc)}" "$@" | tee "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  local line total nfail
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  nfail=$(sed -E 's/.*, ([0-9]+) tests failed.*/\1/' <<<"$line")
  if [ -z "$line" ]; then echo "== no ctest summary for $preset"; status=1; return; fi
  passed=$((passed + total - nfail))
  failed=$((failed + nfail))
}

TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}"
export TSAN_OPTIONS
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

run_preset release
run_preset asan -L sanitize
run_preset tsan -L sanitize

# Packaging (scripts/test-install.sh): engines installed to a temp prefix, examples/ built
# and run against it with CMake and pkg-config; counts as one test.
echo "== install"
if scripts/test-install.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

# 4. Fuzzing smoke run (clang + libFuzzer, scripts/fuzz.sh): every target for
#    KVB_FUZZ_SECONDS (5) s; counts as one test. KVB_SKIP_FUZZ=1 skips it.
if [ "${KVB_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzz"
  if scripts/fuzz.sh "${KVB_FUZZ_SECONDS:-5}"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); status=1
  fi
fi

echo "test time: $(( $(date +%s) - start )) s"
echo "tests: $passed passed, $failed failed"
exit $status
