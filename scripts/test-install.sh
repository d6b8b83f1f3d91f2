#!/usr/bin/env bash
# Checks that the engines install and can be used from outside the tree:
#   1. configures the engines-only build (KVB_ENGINES_ONLY=ON) in a fresh temp dir and checks
#      it looked for no reference database, CLI11, benchmark or Catch2, and that a configure
#      without CMAKE_BUILD_TYPE keeps it empty (the top level forces none);
#   2. builds it and installs it to a fresh temp prefix; checks the prefix holds no tests or
#      tools, no path into the source tree, and every header an installed header includes;
#   3. for each program in examples/: copies it out of the tree, configures it with
#      CMAKE_PREFIX_PATH=<prefix> only (find_package(kvbench CONFIG COMPONENTS ...)), builds,
#      runs it and checks its output;
#   4. compiles and runs the same programs with pkg-config (kvbench-<engine>.pc) alone;
#   5. checks that find_package looks only for the asked-for components' dependencies and
#      that a missing dependency or an unknown component fails with a clear message.
# Prints "test-install: OK (N s)" and exits 0, or names the failing step and exits 1.
# KVB_KEEP_INSTALL_TEST=1 keeps the temp dir for a look.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvb-install-test.XXXXXX")
if [ "${KVB_KEEP_INSTALL_TEST:-0}" = 1 ]; then
  echo "test-install: keeping $tmp"
else
  trap 'rm -rf "$tmp"' EXIT
fi
prefix=$tmp/prefix
jobs=${KVB_JOBS:-$(nproc)}

fail() { echo "test-install: FAILED: $*" >&2; exit 1; }
step() { echo "== test-install: $* ($(( $(date +%s) - start )) s)"; }

step "configure the engines-only build"
cmake -S "$repo" -B "$tmp/build" -G Ninja -DKVB_ENGINES_ONLY=ON -DCMAKE_BUILD_TYPE=Release \
  -DKVB_WERROR="${KVB_WERROR:-OFF}" -DCMAKE_INSTALL_PREFIX="$prefix" >"$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log"; fail "configure"; }
if grep -E '^(__pkg_config_checked_)?(ROCKSDB|LEVELDB|LMDB|SQLITE3|CLI11|benchmark|Catch2)[A-Za-z_]*[:=]' \
    "$tmp/build/CMakeCache.txt"; then
  fail "the engines-only configure looked for the dependencies above"
fi

# The build type is the caller's: a bare configure must not come out as Release.
cmake -S "$repo" -B "$tmp/bare" -G Ninja -DKVB_ENGINES_ONLY=ON >"$tmp/bare.log" 2>&1 ||
  { cat "$tmp/bare.log"; fail "bare configure"; }
grep -qx 'CMAKE_BUILD_TYPE:STRING=' "$tmp/bare/CMakeCache.txt" ||
  fail "a bare configure set $(grep '^CMAKE_BUILD_TYPE' "$tmp/bare/CMakeCache.txt")"

step "build and install"
cmake --build "$tmp/build" -- -j"$jobs" >"$tmp/build.log" 2>&1 ||
  { tail -n 50 "$tmp/build.log"; fail "build"; }
cmake --install "$tmp/build" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "install"; }

step "check the installed tree"
for f in lib/cmake/kvbench/kvbenchConfig.cmake lib/cmake/kvbench/kvbenchConfigVersion.cmake; do
  [ -f "$prefix/$f" ] || fail "missing $f"
done
for c in core linhash typedmap fileperkey; do
  [ -f "$prefix/lib/libkvbench_$c.a" ] || fail "missing lib/libkvbench_$c.a"
  [ -f "$prefix/lib/pkgconfig/kvbench-$c.pc" ] || fail "missing lib/pkgconfig/kvbench-$c.pc"
done
stray=$(cd "$prefix" && find . -type f \( -name '*_test*' -o -path '*/tools/*' -o -path '*/tests/*' \
  -o -name '*.cc' -o -name '*fault_env*' \) | sort)
[ -z "$stray" ] || fail "installed files that are not part of the package: $stray"
if grep -rlF "$repo" "$prefix"; then fail "installed files above name the source tree $repo"; fi
# Every project header an installed header includes is installed too (they compile from the
# prefix alone).
while IFS= read -r h; do
  while IFS= read -r inc; do
    [ -f "$prefix/include/kvbench/$inc" ] || [ -f "$(dirname "$h")/$inc" ] ||
      fail "$h includes \"$inc\", which is not installed"
  done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/p' "$h")
done < <(find "$prefix/include" -type f)
# ... and each one compiles from the prefix with the pkg-config flags alone.
find "$prefix/include/kvbench" -type f | sort | sed -E "s|^$prefix/include/kvbench/(.*)|#include \"\1\"|" \
  >"$tmp/all_headers.cc"
# shellcheck disable=SC2046  # pkg-config's flags are meant to be word-split
"${CXX:-c++}" -std=c++20 -fsyntax-only "$tmp/all_headers.cc" $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" \
  pkg-config --cflags kvbench-core kvbench-linhash kvbench-typedmap kvbench-fileperkey) ||
  fail "the installed headers do not compile on their own (see above)"

# run_example NAME EXE OUT: runs EXE on a fresh data path and checks its one line of output.
run_example() {
  local name=$1 exe=$2 out=$3 arg expected
  arg=$tmp/data/$name.$(basename "$exe")
  case $name in
    linhash_hello) expected="linhash: hello = world (1 key)" ;;
    typedmap_hello) expected="typedmap: alice = Alice, 29" ;;
    fileperkey_hello) expected="fileperkey: hello = world (zstd)" ;;
    *) fail "no expected output for example $name" ;;
  esac
  mkdir -p "$tmp/data"
  "$exe" "$arg" >"$out" 2>&1 || { cat "$out"; fail "$exe exited non-zero"; }
  [ "$(cat "$out")" = "$expected" ] || fail "$exe printed '$(cat "$out")', expected '$expected'"
  # fileperkey's value file is a zstd frame (magic 28 b5 2f fd): libzstd really was linked.
  if [ "$name" = fileperkey_hello ] && [ "$(od -An -tx1 -N4 "$arg/hello" | tr -d ' ')" != 28b52ffd ]; then
    fail "$arg/hello is not a zstd frame"
  fi
}

examples=()
for d in "$repo"/examples/*/; do
  [ -f "$d/CMakeLists.txt" ] && examples+=("$(basename "$d")")
done
[ ${#examples[@]} -gt 0 ] || fail "no examples under examples/"
mkdir -p "$tmp/src" "$tmp/ex"
# With ccache (CMAKE_CXX_COMPILER_LAUNCHER=ccache), paths relative to the temp dir let a rerun
# hit the cache although each run's temp dir has a new name.
export CCACHE_BASEDIR=$tmp
launcher=${CMAKE_CXX_COMPILER_LAUNCHER:-}
for name in "${examples[@]}"; do
  step "example $name: find_package against the prefix"
  cp -r "$repo/examples/$name" "$tmp/src/$name"  # out of the tree: nothing there to find
  ex=$tmp/ex/$name
  cmake -S "$tmp/src/$name" -B "$ex" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    >"$ex.configure.log" 2>&1 || { cat "$ex.configure.log"; fail "configure $name"; }
  found=$(sed -n 's/^kvbench_DIR:PATH=//p' "$ex/CMakeCache.txt")
  [ "$found" = "$prefix/lib/cmake/kvbench" ] || fail "$name found kvbench at '$found'"
  cmake --build "$ex" >"$ex.build.log" 2>&1 || { cat "$ex.build.log"; fail "build $name"; }
  if grep -lF "$repo" "$ex/build.ninja" "$ex/compile_commands.json"; then
    fail "$name's build names the source tree $repo"
  fi
  run_example "$name" "$ex/$name" "$ex.out"
  echo "   $(cat "$ex.out")"

  step "example $name: pkg-config"
  engine=${name%_hello}
  pc=(env PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config)
  "${pc[@]}" --exists "kvbench-$engine" || fail "pkg-config does not find kvbench-$engine"
  # shellcheck disable=SC2046  # pkg-config's flags are meant to be word-split
  $launcher "${CXX:-c++}" -std=c++20 -O1 -o "$ex/$name.pc" "$tmp/src/$name/main.cc" \
    $("${pc[@]}" --cflags --libs "kvbench-$engine") >"$ex.pc.log" 2>&1 ||
    { cat "$ex.pc.log"; fail "pkg-config compile of $name"; }
  run_example "$name" "$ex/$name.pc" "$ex.pc.out"
done

step "find_package looks only for the requested components' dependencies"
mkdir -p "$tmp/src/probe"
cat >"$tmp/src/probe/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.22)
project(probe LANGUAGES CXX)
find_package(kvbench ${VERSION} CONFIG REQUIRED COMPONENTS ${WANT})
EOF
# probe NAME EXPECT(ok|fail) COMPONENTS [cmake args...]: configures the probe project.
probe() {
  local name=$1 expect=$2 want=$3 got=ok
  shift 3
  cmake -S "$tmp/src/probe" -B "$tmp/ex/probe-$name" -DCMAKE_PREFIX_PATH="$prefix" \
    -DWANT="$want" "$@" >"$tmp/ex/probe-$name.log" 2>&1 || got=fail
  [ "$got" = "$expect" ] ||
    { cat "$tmp/ex/probe-$name.log"; fail "probe $name: configure $got, expected $expect"; }
}
# linhash must not need typedmap's or fileperkey's dependencies; their absence must fail
# exactly the components that need them, naming the missing target.
nodeps=(-DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON -DCMAKE_DISABLE_FIND_PACKAGE_ZLIB=ON)
probe linhash-alone ok linhash "${nodeps[@]}"
probe typedmap-no-json fail typedmap "${nodeps[@]}"
grep -q "kvbench::typedmap needs nlohmann_json::nlohmann_json" "$tmp/ex/probe-typedmap-no-json.log" ||
  { cat "$tmp/ex/probe-typedmap-no-json.log"; fail "no clear message for a missing dependency"; }
probe fileperkey-no-zlib fail fileperkey "${nodeps[@]}"
probe all ok "core;linhash;typedmap;fileperkey" -DVERSION=0.1
probe next-minor fail linhash -DVERSION=0.2  # 0.x: another minor version is incompatible
probe nosuch fail nosuch
grep -q "no component 'nosuch'" "$tmp/ex/probe-nosuch.log" ||
  { cat "$tmp/ex/probe-nosuch.log"; fail "no clear message for a missing component"; }

echo "test-install: OK ($(( $(date +%s) - start )) s)"
