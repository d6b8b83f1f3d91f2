#!/usr/bin/env bash
# Tests of scripts/build-release-refs.sh that need no network: consent before touching apt's
# sources (a scratch KVB_APT_SOURCES_DIR), the deb-src entries it derives, bad arguments, and
# reuse of a finished build without deb-src. Usage: build_release_refs_test.sh SCRIPT
set -uo pipefail
script=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# 1. No deb-src, no consent, stdin not a terminal: one-line error naming the flag, nothing written.
mkdir -p "$tmp/apt1/sources.list.d"
printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\n' \
  > "$tmp/apt1/sources.list.d/debian.sources"
KVB_APT_SOURCES_DIR=$tmp/apt1 "$script" --cache "$tmp/cache" </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
[[ $rc -ne 0 ]] || fail "refusal: exit code 0"
[[ $(wc -l < "$tmp/err") -eq 1 ]] || fail "refusal: stderr is not one line: $(cat "$tmp/err")"
grep -q -- '--enable-deb-src' "$tmp/err" || fail "refusal: error does not say how to consent"
[[ ! -e $tmp/apt1/sources.list.d/kvbench-deb-src.sources ]] || fail "refusal: wrote a sources file"
[[ ! -e $tmp/cache ]] || fail "refusal: created the cache"

# 2. Consent by flag (dry run: no apt-get update, no build): deb-src mirrors the deb stanza.
KVB_APT_SOURCES_DIR=$tmp/apt1 "$script" --cache "$tmp/cache" --enable-deb-src --dry-run \
  </dev/null >"$tmp/out" 2>"$tmp/err" || fail "consent: exit code $? ($(cat "$tmp/err"))"
added=$tmp/apt1/sources.list.d/kvbench-deb-src.sources
grep -qx 'Types: deb-src' "$added" 2>/dev/null || fail "consent: no 'Types: deb-src' in $added"
grep -qx 'URIs: http://deb.debian.org/debian' "$added" 2>/dev/null || fail "consent: URIs not copied"
grep -qx 'Suites: bookworm' "$added" 2>/dev/null || fail "consent: Suites not copied"

# 3. A one-line sources.list is converted too (options in brackets skipped).
mkdir -p "$tmp/apt2"
echo 'deb [arch=amd64] http://mirror.example/debian bookworm main contrib' > "$tmp/apt2/sources.list"
KVB_APT_SOURCES_DIR=$tmp/apt2 "$script" --cache "$tmp/cache" --enable-deb-src --dry-run \
  </dev/null >/dev/null 2>&1 || fail "list: exit code $?"
added=$tmp/apt2/sources.list.d/kvbench-deb-src.sources
grep -qx 'URIs: http://mirror.example/debian' "$added" 2>/dev/null || fail "list: URIs wrong"
grep -qx 'Components: main contrib' "$added" 2>/dev/null || fail "list: Components wrong"

# 4. deb-src already present: no consent needed, nothing written.
mkdir -p "$tmp/apt3"
echo 'deb-src http://deb.debian.org/debian bookworm main' > "$tmp/apt3/sources.list"
KVB_APT_SOURCES_DIR=$tmp/apt3 "$script" --cache "$tmp/cache" --dry-run </dev/null \
  >"$tmp/out" 2>"$tmp/err" || fail "present: exit code $? ($(cat "$tmp/err"))"
[[ ! -e $tmp/apt3/sources.list.d ]] || fail "present: wrote a sources file"

# 5. Bad arguments: one-line error, non-zero exit.
for args in "--only bogus" "--jobs 0" "--frobnicate" "--cache"; do
  # shellcheck disable=SC2086
  KVB_APT_SOURCES_DIR=$tmp/apt3 "$script" $args </dev/null >/dev/null 2>"$tmp/err"
  rc=$?
  [[ $rc -ne 0 && $(wc -l < "$tmp/err") -eq 1 ]] || fail "bad args '$args': rc $rc, $(cat "$tmp/err")"
done

# 6. A finished build (its stamp matching the recipe) is reused without deb-src and without
#    building; a stale stamp is not (it needs deb-src, which the empty apt directory lacks).
for ref in rocksdb leveldb; do
  stamp=$("$script" --print-stamp --only "$ref" 2>"$tmp/err") ||
    { fail "stamp $ref: exit code $? ($(cat "$tmp/err"))"; continue; }
  pkg=$(sed -n 's/^package=//p' <<< "$stamp")
  ver=$(sed -n 's/^version=//p' <<< "$stamp")
  [[ -n $pkg && -n $ver ]] || { fail "stamp $ref: no package or version: $stamp"; continue; }
  prefix=$tmp/cache6/$pkg-$ver/prefix
  mkdir -p "$prefix"
  printf '%s\n' "$stamp" > "$prefix/kvb-refs.stamp"
  KVB_APT_SOURCES_DIR=$tmp/apt-empty "$script" --cache "$tmp/cache6" --only "$ref" </dev/null \
    >"$tmp/out" 2>"$tmp/err" || fail "reuse $ref: exit code $? ($(cat "$tmp/err"))"
  grep -q "reusing $prefix" "$tmp/out" || fail "reuse $ref: did not reuse: $(cat "$tmp/out")"
  [[ $(ls "$tmp/cache6/$pkg-$ver") == prefix ]] || fail "reuse $ref: wrote into the cache"
  echo "recipe=0" > "$prefix/kvb-refs.stamp"
  KVB_APT_SOURCES_DIR=$tmp/apt-empty "$script" --cache "$tmp/cache6" --only "$ref" </dev/null \
    >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [[ $rc -ne 0 ]] && grep -q -- '--enable-deb-src' "$tmp/err" ||
    fail "stale $ref: rc $rc, not refused for want of deb-src: $(cat "$tmp/err")"
done

[[ $fails -eq 0 ]] && echo "build_release_refs_test: all checks passed"
exit $((fails > 0))
