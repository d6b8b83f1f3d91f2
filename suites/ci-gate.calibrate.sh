#!/bin/sh
# Calibrates the ci-gate suite on this machine (docs/gating.md, "Calibration"):
#   A/A:       PAIRS pairs of identical ci-gate runs, each pair compared with the gate;
#   detection: PAIRS pairs of null:delay_ns=1000 (BASE) against null:delay_ns=1100 (NEW,
#              a known 10 % slower engine), run in alternating order, compared with the gate.
# Every compare writes its JSON (--json), so other thresholds can be evaluated afterwards
# with ci-gate.calibrate.py without running again.
# usage: suites/ci-gate.calibrate.sh KVBENCH COMPARER OUT_DIR [PAIRS] [aa|detect|both|ab-aa|ab-detect]
# COMPARER is the kvbench binary again (its `compare` subcommand; kvb-report is gone).
# (ab-*: KVB_CALIBRATE_ROUNDS rounds per try, default 6)
set -u
# Extra run flags for every run (e.g. "--ops 300000"), word-split on purpose.
EXTRA=${KVB_CALIBRATE_FLAGS:-}
KVBENCH=$1
REPORT=$2
OUT=$3
PAIRS=${4:-10}
WHAT=${5:-both}
mkdir -p "$OUT"

if [ "$WHAT" = aa ] || [ "$WHAT" = both ]; then
  i=1
  while [ "$i" -le "$PAIRS" ]; do
    for side in a b; do
      "$KVBENCH" run --suite ci-gate $EXTRA --quiet --out "$OUT/aa-$i-$side" > /dev/null
    done
    "$REPORT" compare "$OUT/aa-$i-a/results.json" "$OUT/aa-$i-b/results.json" --gate \
      --json "$OUT/aa-$i.json" > "$OUT/aa-$i.txt"
    echo "aa pair $i: gate exit $?"
    i=$((i + 1))
  done
fi

if [ "$WHAT" = detect ] || [ "$WHAT" = both ]; then
  i=1
  while [ "$i" -le "$PAIRS" ]; do
    # Alternate which side runs first, so a drift in machine load hits both alike.
    if [ $((i % 2)) -eq 1 ]; then order="1000 1100"; else order="1100 1000"; fi
    for d in $order; do
      "$KVBENCH" run --suite ci-gate $EXTRA --engines "null:delay_ns=$d" --quiet \
        --out "$OUT/det-$i-$d" > /dev/null
    done
    "$REPORT" compare "$OUT/det-$i-1000/results.json" "$OUT/det-$i-1100/results.json" --gate \
      --ignore-engine-options --json "$OUT/det-$i.json" > "$OUT/det-$i.txt"
    echo "detection pair $i: gate exit $?"
    i=$((i + 1))
  done
fi

# Interleaved (kvbench ab): each try runs A and B alternately for ROUNDS rounds of one
# repetition each, so drift in machine load lands on both sides; samples span runs.
ROUNDS=${KVB_CALIBRATE_ROUNDS:-6}
if [ "$WHAT" = ab-aa ]; then
  i=1
  while [ "$i" -le "$PAIRS" ]; do
    "$REPORT" ab "$KVBENCH" "$KVBENCH" --rounds "$ROUNDS" --out "$OUT/abaa-$i" --gate -- \
      --suite ci-gate --repetitions 1 --quiet $EXTRA > "$OUT/abaa-$i.txt"
    echo "ab A/A try $i: gate exit $?"
    cp "$OUT/abaa-$i/compare.json" "$OUT/abaa-$i.json"
    i=$((i + 1))
  done
fi
if [ "$WHAT" = ab-detect ]; then
  # Two "builds" that differ only in the engine's injected delay.
  for d in 1000 1100; do
    printf '#!/bin/sh\nexec "%s" "$@" --engines null:delay_ns=%s\n' "$KVBENCH" "$d" \
      > "$OUT/kvbench-delay-$d"
    chmod +x "$OUT/kvbench-delay-$d"
  done
  i=1
  while [ "$i" -le "$PAIRS" ]; do
    "$REPORT" ab "$OUT/kvbench-delay-1000" "$OUT/kvbench-delay-1100" --rounds "$ROUNDS" \
      --out "$OUT/abdet-$i" --gate --ignore-engine-options -- \
      --suite ci-gate --repetitions 1 --quiet $EXTRA > "$OUT/abdet-$i.txt"
    echo "ab detection try $i: gate exit $?"
    cp "$OUT/abdet-$i/compare.json" "$OUT/abdet-$i.json"
    i=$((i + 1))
  done
fi
