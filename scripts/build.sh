#!/usr/bin/env bash
# Configures and builds one preset (release, debug, asan, tsan):
#   scripts/build.sh [PRESET] [--release-refs [DIR]] [CMAKE ARGS...]
# --release-refs links RocksDB and LevelDB from scripts/build-release-refs.sh's cache DIR
# (default ~/.cache/kvbench/refs) instead of Debian's packages (-DKVB_REFS_DIR=DIR), in a
# separate build directory build/PRESET-refs, so both builds can sit side by side.
# KVB_TARGETS="t1 t2" builds only those targets (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
shift || true
refs_dir=""
if [[ ${1:-} == --release-refs ]]; then
  shift
  refs_dir=${XDG_CACHE_HOME:-$HOME/.cache}/kvbench/refs
  if [[ $# -gt 0 && $1 != -* ]]; then refs_dir=$1; shift; fi
fi
if [[ -z $refs_dir ]]; then
  cmake --preset "$preset" -DKVB_WERROR="${KVB_WERROR:-OFF}" "$@" >/dev/null
  # shellcheck disable=SC2086  # KVB_TARGETS is a list of words
  cmake --build --preset "$preset" ${KVB_TARGETS:+--target $KVB_TARGETS} -- -j"${KVB_JOBS:-$(nproc)}"
else
  dir=build/$preset-refs
  cmake --preset "$preset" -B "$dir" -DKVB_WERROR="${KVB_WERROR:-OFF}" \
    -DKVB_REFS_DIR="$refs_dir" "$@" >/dev/null
  # shellcheck disable=SC2086
  cmake --build "$dir" ${KVB_TARGETS:+--target $KVB_TARGETS} -- -j"${KVB_JOBS:-$(nproc)}"
fi
