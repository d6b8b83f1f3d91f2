#!/usr/bin/env bash
# Builds release references: RocksDB and LevelDB from Debian's own source packages (the version
# Debian has installed, Debian's patches applied), with CMake's Release flags (-O3 -DNDEBUG), no
# tests; only the shared library, its headers and db_bench. Debian's own builds keep assertions on.
#
#   scripts/build-release-refs.sh [--cache DIR] [--enable-deb-src] [--only rocksdb|leveldb]
#                                 [--jobs N] [--dry-run] [--print-stamp]
#
# The build lands in DIR/<source package>-<version>/prefix/{include,lib,bin} (DIR defaults to
# ~/.cache/kvbench/refs, outside the source tree) with a stamp file; a later run with the same
# version and flags reuses it without building. Link kvbench against it with
#   scripts/build.sh release --release-refs [DIR]      (build/release-refs; cmake/README.md)
#
# Source packages need a deb-src entry in apt's sources. The script adds one
# (sources.list.d/kvbench-deb-src.sources, mirroring the existing deb entries) and runs
# apt-get update only with consent: --enable-deb-src, or "y" at the prompt on a terminal.
# KVB_APT_SOURCES_DIR (default /etc/apt) names the apt directory inspected; tests point it at a
# scratch directory. --dry-run stops after the consent step and prints the plan.
# --print-stamp prints, for each library, the stamp a cached build must carry to be reused
# (it touches nothing).
set -euo pipefail

me=build-release-refs.sh
die() { echo "$me: $*" >&2; exit 1; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/kvbench/refs
apt_dir=${KVB_APT_SOURCES_DIR:-/etc/apt}
enable_deb_src=0
dry_run=0
print_stamp=0
jobs=2
only=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --cache) [[ $# -ge 2 ]] || die "--cache needs a directory"; cache=$2; shift 2 ;;
    --enable-deb-src) enable_deb_src=1; shift ;;
    --only) [[ $# -ge 2 ]] || die "--only needs rocksdb or leveldb"; only=$2; shift 2 ;;
    --jobs) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || die "--jobs needs a positive number"
            jobs=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --print-stamp) print_stamp=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
case $only in
  "") refs=(rocksdb leveldb) ;;
  rocksdb|leveldb) refs=("$only") ;;
  *) die "--only takes rocksdb or leveldb, not '$only'" ;;
esac

# The Debian binary package each reference is known by, and its source package's build.
declare -A dev_package=([rocksdb]=librocksdb-dev [leveldb]=libleveldb-dev)

# --- deb-src: detected, and added only with consent ----------------------------------------
source_files() {
  local f
  for f in "$apt_dir"/sources.list "$apt_dir"/sources.list.d/*.list \
           "$apt_dir"/sources.list.d/*.sources; do
    [[ -f $f ]] && echo "$f"
  done
  return 0
}

has_deb_src() {
  local f
  while read -r f; do
    [[ -n $f ]] || continue
    if [[ $f == *.sources ]]; then
      grep -qiE '^[[:space:]]*Types:.*(^|[[:space:]])deb-src([[:space:]]|$)' "$f" && return 0
    else
      grep -qE '^[[:space:]]*deb-src[[:space:]]' "$f" && return 0
    fi
  done < <(source_files)
  return 1
}

# Prints deb-src stanzas (deb822) mirroring every deb entry of the existing sources.
deb_src_stanzas() {
  local f
  while read -r f; do
    [[ -n $f ]] || continue
    if [[ $f == *.sources ]]; then
      awk 'BEGIN { RS = ""; ORS = "\n\n" }
           /(^|\n)[Tt]ypes:[^\n]*deb([ \t]|\n|$)/ {
             sub(/(^|\n)[Tt]ypes:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print }' "$f"
    else
      awk '$1 == "deb" {
             opts = ""; i = 2
             if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
             uri = $i; suite = $(i + 1); comps = ""
             for (j = i + 2; j <= NF; j++) comps = comps (comps ? " " : "") $j
             printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n\n", uri, suite, comps
           }' "$f"
    fi
  done < <(source_files)
}

ensure_deb_src() {
  has_deb_src && return 0
  if [[ $enable_deb_src -eq 0 ]]; then
    if [[ -t 0 ]]; then
      local answer
      read -r -p "$me: apt has no deb-src entry; add $apt_dir/sources.list.d/kvbench-deb-src.sources and run apt-get update? [y/N] " answer
      [[ $answer == [yY]* ]] || die "no deb-src entry in $apt_dir and no consent to add one; rerun with --enable-deb-src"
    else
      die "no deb-src entry in $apt_dir; rerun with --enable-deb-src to let this script add one (sources.list.d/kvbench-deb-src.sources) and run apt-get update"
    fi
  fi
  local stanzas
  stanzas=$(deb_src_stanzas)
  [[ -n $stanzas ]] || die "no deb entry in $apt_dir to mirror as deb-src; add a deb-src line by hand"
  mkdir -p "$apt_dir/sources.list.d"
  printf '# Added by kvbench scripts/build-release-refs.sh --enable-deb-src\n%s\n' "$stanzas" \
    > "$apt_dir/sources.list.d/kvbench-deb-src.sources"
  echo "$me: wrote $apt_dir/sources.list.d/kvbench-deb-src.sources"
  [[ $dry_run -eq 1 ]] || apt-get update -qq || die "apt-get update failed"
}

# --- versions: the installed Debian package's source, else the newest source ----------------
source_of() {  # prints "<source package> <version>"
  local dev=${dev_package[$1]} src ver
  src=$(dpkg-query -W -f='${source:Package}' "$dev" 2>/dev/null || true)
  ver=$(dpkg-query -W -f='${source:Version}' "$dev" 2>/dev/null || true)
  if [[ -z $src || -z $ver ]]; then
    src=$(apt-cache showsrc "$dev" 2>/dev/null | awk '/^Package:/ { print $2; exit }')
    ver=$(apt-cache showsrc "$dev" 2>/dev/null | awk '/^Version:/ { print $2; exit }')
  fi
  [[ -n $src && -n $ver ]] || die "cannot tell which source package builds $dev (apt-cache showsrc $dev)"
  echo "$src $ver"
}

# --- the builds ---------------------------------------------------------------------------
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

rocksdb_args() {
  local prefix=$1
  echo -DCMAKE_BUILD_TYPE=Release -DWITH_TESTS=OFF -DWITH_ALL_TESTS=OFF \
       -DWITH_BENCHMARK_TOOLS=ON -DWITH_CORE_TOOLS=OFF -DWITH_TOOLS=OFF -DPORTABLE=1 -DUSE_RTTI=1 \
       -DFAIL_ON_WARNINGS=OFF -DROCKSDB_BUILD_SHARED=ON -DWITH_GFLAGS=ON -DWITH_LIBURING=OFF \
       -DWITH_BZ2=ON -DWITH_LZ4=ON -DWITH_ZLIB=ON -DWITH_ZSTD=ON -DWITH_SNAPPY=ON \
       "-DCMAKE_EXE_LINKER_FLAGS=-Wl,-rpath,$prefix/lib"
}

leveldb_args() {
  echo -DCMAKE_BUILD_TYPE=Release -DLEVELDB_BUILD_TESTS=OFF -DLEVELDB_BUILD_BENCHMARKS=ON \
       -DLEVELDB_INSTALL=OFF
}

run_build() {  # dir, build subdir, targets..., -- cmake args...
  local dir=$1 sub=$2; shift 2
  local targets=()
  while [[ $1 != -- ]]; do targets+=("$1"); shift; done
  shift
  echo "$me: building $(basename "$dir") ($sub): ${targets[*]}"
  cmake -S "$dir/src" -B "$dir/$sub" "${generator[@]}" "$@" > "$dir/$sub.configure.log" 2>&1 ||
    die "configure failed, see $dir/$sub.configure.log"
  nice -n 15 cmake --build "$dir/$sub" -j "$jobs" --target "${targets[@]}" > "$dir/$sub.build.log" 2>&1 ||
    die "build failed, see $dir/$sub.build.log"
}

install_rocksdb() {
  local dir=$1 prefix=$1/prefix
  run_build "$dir" build rocksdb-shared db_bench -- $(rocksdb_args "$prefix")
  mkdir -p "$prefix/lib" "$prefix/bin"
  cp -a "$dir/src/include" "$prefix/"
  cp -a "$dir"/build/librocksdb.so* "$prefix/lib/"
  cp -a "$dir/build/db_bench" "$prefix/bin/"
}

# LevelDB builds db_bench only as a static binary (it uses hidden internals), so the shared
# library (for kvbench) and db_bench are two builds; a third, with Debian's own compiler flags
# (dpkg-buildflags, build type None: assertions on), gives db_bench.debian-flags, because Debian
# ships no LevelDB db_bench to compare against.
install_leveldb() {
  local dir=$1 prefix=$1/prefix
  run_build "$dir" build-shared leveldb -- $(leveldb_args) -DBUILD_SHARED_LIBS=ON
  run_build "$dir" build-static db_bench -- $(leveldb_args) -DBUILD_SHARED_LIBS=OFF
  run_build "$dir" build-debian-flags db_bench -- -DCMAKE_BUILD_TYPE=None \
    "-DCMAKE_CXX_FLAGS=$(dpkg-buildflags --get CXXFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
    "-DCMAKE_C_FLAGS=$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
    -DLEVELDB_BUILD_TESTS=OFF -DLEVELDB_BUILD_BENCHMARKS=ON -DLEVELDB_INSTALL=OFF \
    -DBUILD_SHARED_LIBS=OFF
  mkdir -p "$prefix/lib" "$prefix/bin"
  cp -a "$dir/src/include" "$prefix/"
  cp -a "$dir"/build-shared/libleveldb.so* "$prefix/lib/"
  cp -a "$dir/build-static/db_bench" "$prefix/bin/"
  cp -a "$dir/build-debian-flags/db_bench" "$prefix/bin/db_bench.debian-flags"
}

stamp_text() {  # ref, source, version
  local args
  if [[ $1 == rocksdb ]]; then args=$(rocksdb_args PREFIX); else args=$(leveldb_args); fi
  printf 'package=%s\nversion=%s\nrecipe=1\ncmake=%s\n' "$2" "$3" "$args"
}

is_cached() {  # ref: the stamp in its cache directory matches this recipe and version
  local out src ver
  out=$(source_of "$1" 2>/dev/null) || return 1
  read -r src ver <<< "$out"
  local stamp=$cache/$src-$ver/prefix/kvb-refs.stamp
  [[ -f $stamp && $(cat "$stamp") == "$(stamp_text "$1" "$src" "$ver")" ]]
}

build_one() {
  local ref=$1 out src ver dir
  out=$(source_of "$ref") || exit 1
  read -r src ver <<< "$out"
  dir=$cache/$src-$ver
  if is_cached "$ref"; then
    echo "$me: $src $ver: reusing $dir/prefix"
    return 0
  fi
  if [[ $dry_run -eq 1 ]]; then
    echo "$me: would build $src $ver into $dir/prefix"
    return 0
  fi
  rm -rf "$dir/prefix" "$dir"/build*
  mkdir -p "$dir/fetch"
  if [[ ! -d $dir/src ]]; then
    (cd "$dir/fetch" && apt-get source --download-only -qq "$src=$ver") ||
      die "apt-get source $src=$ver failed"
    dpkg-source -x "$dir/fetch/${src}_${ver#*:}.dsc" "$dir/src" > "$dir/unpack.log" 2>&1 ||
      die "dpkg-source -x failed, see $dir/unpack.log"
  fi
  "install_$ref" "$dir"
  stamp_text "$ref" "$src" "$ver" > "$dir/prefix/kvb-refs.stamp"
  echo "$me: $src $ver: built into $dir/prefix"
}

if [[ $print_stamp -eq 1 ]]; then
  for ref in "${refs[@]}"; do
    out=$(source_of "$ref") || exit 1
    read -r src ver <<< "$out"
    stamp_text "$ref" "$src" "$ver"
  done
  exit 0
fi
for ref in "${refs[@]}"; do
  is_cached "$ref" || { ensure_deb_src; break; }
done
for ref in "${refs[@]}"; do build_one "$ref"; done
