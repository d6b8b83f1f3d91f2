#!/usr/bin/env bash
# Installs every Debian package kvbench needs. Idempotent: installs only what is missing,
# runs `apt-get update` first only then, and uses sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  librocksdb-dev liblmdb-dev libsqlite3-dev libleveldb-dev
  libbenchmark-dev libbenchmark-tools catch2 nlohmann-json3-dev libcli11-dev
  libxxhash-dev zlib1g-dev libzstd-dev
  python3-matplotlib python3-numpy python3-scipy
  rocksdb-tools clang libclang-rt-14-dev clang-format
)

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
