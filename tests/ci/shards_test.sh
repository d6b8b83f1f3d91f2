#!/usr/bin/env bash
# shards_test: a suite run as shards in separate processes, each shard chosen by the
# environment variable of a different scheduler (KVB_SHARD; GitLab's CI_NODE_INDEX /
# CI_NODE_TOTAL, 1-based; a Slurm job array's SLURM_ARRAY_TASK_ID / _COUNT / _MIN), merged
# with `kvbench merge`, must hold exactly the points of the same suite run unsharded: the
# same benchmark names with the same parameters (seed aside) and repetition counts, each
# point in exactly one shard. The CI examples in docs/ci/ use these variables.
#   shards_test.sh KVBENCH OUT_DIR          exit 0 pass, 1 fail
set -u
kvb=$1
out=$2
n=3
rm -rf "$out" && mkdir -p "$out" || exit 1
clean=(env -u KVB_SHARD -u CI_NODE_INDEX -u CI_NODE_TOTAL -u SLURM_ARRAY_TASK_ID
       -u SLURM_ARRAY_TASK_COUNT -u SLURM_ARRAY_TASK_MIN -u PBS_ARRAY_INDEX -u KVB_SHARD_COUNT)
args=(run --suite smoke --engines memory,null --repetitions 2 --quiet)
run() {  # NAME VAR=VALUE...
  local name=$1
  shift
  "${clean[@]}" "$@" "$kvb" "${args[@]}" --out "$out/$name" > "$out/$name.log" 2>&1 ||
    { echo "FAIL: $name: kvbench run exited $?"; tail -5 "$out/$name.log"; exit 1; }
}
run whole
run shard0 KVB_SHARD=0/$n
run shard1 CI_NODE_INDEX=2 CI_NODE_TOTAL=$n
run shard2 SLURM_ARRAY_TASK_ID=7 SLURM_ARRAY_TASK_MIN=5 SLURM_ARRAY_TASK_COUNT=$n
"$kvb" merge "$out/merged.json" "$out"/shard{0,1,2}/results.json \
  > "$out/merge.log" 2>&1 || { echo "FAIL: merge"; cat "$out/merge.log"; exit 1; }
/usr/bin/python3 - "$out" "$n" <<'PY'
import collections, json, sys
out, n = sys.argv[1], int(sys.argv[2])
def points(path):
    """(name, params without seed) -> repetitions, of the iteration entries."""
    got = collections.Counter()
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type", "iteration") != "iteration":
            continue
        params = {k: v for k, v in b.get("params", {}).items() if k != "seed"}
        got[(b["name"], json.dumps(params, sort_keys=True))] += 1
    return got
whole = points(f"{out}/whole/results.json")
merged = points(f"{out}/merged.json")
shards = [points(f"{out}/shard{i}/results.json") for i in range(n)]
fails = []
if not whole:
    fails.append("the unsharded run has no points")
if merged != whole:
    fails.append(f"merged != unsharded: only merged {sorted(set(merged) - set(whole))}, "
                 f"only unsharded {sorted(set(whole) - set(merged))}")
for i, s in enumerate(shards):
    if not s:
        fails.append(f"shard {i} ran nothing")
    for j in range(i + 1, n):
        if set(s) & set(shards[j]):
            fails.append(f"shards {i} and {j} share points")
print(f"{n} shards: {[sum(s.values()) for s in shards]} entries; merged "
      f"{len(merged)} points / {sum(merged.values())} entries; unsharded "
      f"{len(whole)} points / {sum(whole.values())} entries")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY
