#!/usr/bin/env bash
# Configures and builds one preset (release, debug, asan, tsan): scripts/build.sh [PRESET]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
shift || true
cmake --preset "$preset" -DKVB_WERROR="${KVB_WERROR:-OFF}" "$@" >/dev/null
cmake --build --preset "$preset" -- -j"${KVB_JOBS:-$(nproc)}"
