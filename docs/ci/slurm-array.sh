#!/usr/bin/env bash
# A Slurm job array of 4 shards (kvbench reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT
# and SLURM_ARRAY_TASK_MIN) and a merge job that starts when every shard has finished.
#   sbatch docs/ci/slurm-array.sh          (from the repository, after scripts/build.sh release)
#SBATCH --job-name=kvbench-shard
#SBATCH --array=0-3
#SBATCH --partition=bench        # one machine class
#SBATCH --exclusive
#SBATCH --output=kvbench-out/slurm-%A-shard-%a.log   # kvbench-out/ must exist
set -euo pipefail
out=kvbench-out/slurm-$SLURM_ARRAY_JOB_ID
mkdir -p "$out"
build/release/harness/kvbench run --suite ci-gate --out "$out/shard-$SLURM_ARRAY_TASK_ID"
# The first task queues the merge behind the whole array.
if [ "$SLURM_ARRAY_TASK_ID" = "$SLURM_ARRAY_TASK_MIN" ]; then
  sbatch --dependency="afterok:$SLURM_ARRAY_JOB_ID" --partition=bench \
    --output="$out/merge.log" --wrap \
    "build/release/harness/kvbench merge $out/merged.json $out/shard-*/results.json &&
     build/release/harness/kvbench report $out/merged.json --html $out/report.html"
fi
