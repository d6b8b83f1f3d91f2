#!/usr/bin/env bash
# Fidelity: kvbench's read-heavy gets/s against bench/fidelity/readrandom (an independent
# minimal reader) on the same engine, settings and shape, in interleaved rounds (readrandom,
# then kvbench, per engine and thread count, round after round), so machine noise hits both.
#   bench/fidelity/compare.sh [BUILD_DIR] [KEYS] [ROUNDS] [ENGINES] [THREADS]
#   defaults: build/release 1000000 3 "lmdb leveldb rocksdb" "1 2"
# Prints one line per measurement and a table of medians and the ratio kvbench / readrandom.
# Data goes to a fresh directory under ${TMPDIR:-/tmp}, removed at exit.
set -euo pipefail
BUILD=${1:-build/release}
KEYS=${2:-1000000}
ROUNDS=${3:-3}
ENGINES=${4:-lmdb leveldb rocksdb}
THREADS=${5:-1 2}
KVBENCH=$BUILD/harness/kvbench
READER=$BUILD/bench/fidelity_readrandom
for exe in "$KVBENCH" "$READER"; do
  [ -x "$exe" ] || { echo "compare.sh: $exe not built" >&2; exit 2; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kvb-fidelity.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
LOG=$WORK/log
for round in $(seq 1 "$ROUNDS"); do
  for engine in $ENGINES; do
    for t in $THREADS; do
      line=$("$READER" "$engine" "$WORK/db" "$KEYS" "$t")
      echo "round=$round $line"
      echo "$engine $t readrandom $(sed -E 's/.*gets_per_s=([0-9]+).*/\1/' <<<"$line")" >>"$LOG"
      "$KVBENCH" run --engines "$engine" --workloads read-heavy --keys "$KEYS" \
        --key-size 16 --value-size 128 --threads "$t" --seed "$round" \
        --data-dir "$WORK" --out "$WORK/kvb" --quiet >/dev/null
      ops=$(/usr/bin/python3 -c 'import json,sys
b=json.load(open(sys.argv[1]))["benchmarks"][0]
assert b["verify"]["mismatches"] == 0 and b["errors"] == 0, "bad reads"
print(round(b["phases"]["run"]["ops_per_s"]))' "$WORK/kvb/results.json")
      echo "round=$round engine=$engine threads=$t kvbench gets_per_s=$ops"
      echo "$engine $t kvbench $ops" >>"$LOG"
      rm -rf "$WORK/kvb"
    done
  done
done
/usr/bin/python3 - "$LOG" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    engine, threads, tool, ops = line.split()
    runs[(engine, int(threads), tool)].append(float(ops))
print("\n| engine | threads | readrandom gets/s (median) | kvbench gets/s (median) | kvbench / readrandom |")
print("|---|---|---|---|---|")
for (engine, threads) in sorted({(e, t) for e, t, _ in runs}):
    a = statistics.median(runs[(engine, threads, "readrandom")])
    b = statistics.median(runs[(engine, threads, "kvbench")])
    print(f"| {engine} | {threads} | {a:,.0f} | {b:,.0f} | {b / a:.2f} |")
EOF
