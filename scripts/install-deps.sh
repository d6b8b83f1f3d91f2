#!/usr/bin/env bash
# Installs every Debian package kvbench needs. Idempotent: installs only what is missing,
# runs `apt-get update` first only then, and uses sudo when not root.
#   scripts/install-deps.sh            everything (reference databases, harness, tests, plots)
#   scripts/install-deps.sh --engines  only what building and using the engines needs
#                                      (cmake -DKVB_ENGINES_ONLY=ON; examples/README.md)
set -euo pipefail

# The engines' own dependencies: xxhash (core), nlohmann-json (typedmap), zlib + zstd
# (fileperkey). An application linking an installed engine needs the same ones.
ENGINE_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libxxhash-dev nlohmann-json3-dev zlib1g-dev libzstd-dev
)
case "${1:-}" in
  --engines) PACKAGES=("${ENGINE_PACKAGES[@]}") ;;
  "")
    PACKAGES=(
      "${ENGINE_PACKAGES[@]}" git
      librocksdb-dev liblmdb-dev libsqlite3-dev libleveldb-dev
      libbenchmark-dev libbenchmark-tools catch2 libcli11-dev
      python3-matplotlib python3-numpy python3-scipy
      rocksdb-tools clang libclang-rt-14-dev clang-format
      libjs-chart.js chromium  # HTML pages: inlined charts; the browser test
    )
    ;;
  *)
    echo "usage: scripts/install-deps.sh [--engines]" >&2
    exit 2
    ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
