#!/usr/bin/env bash
# gantry classifier export|import: a feature network moves between machines (caches) and into a
# study's database, and a study never takes a second one. Usage: classifier_exchange.sh GANTRY CACHE
set -euo pipefail
gantry=$1
cache=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() {  # expect CODE PATTERN command...: the exit code and a line of the output
  local code=$1 pattern=$2; shift 2
  local out status=0
  out=$("$@" 2>&1) || status=$?
  [ "$status" = "$code" ] || fail "$* exited $status, expected $code: $out"
  grep -Eq -- "$pattern" <<<"$out" || fail "$* printed '$out', expected /$pattern/"
}
sha=$(GANTRY_CACHE_DIR=$cache "$gantry" classifier info | sed -n 's/^weights sha256: //p') || true
[ -n "$sha" ] || fail "no reference classifier in $cache (the ctest fixture classifier.train makes it)"
short=${sha:0:16}
expect 0 "^exported feature network $short \(recipe [0-9a-f]{16}\) to $tmp/net.bin$" \
  env GANTRY_CACHE_DIR="$cache" "$gantry" classifier export "$tmp/net.bin"
expect 0 "^imported feature network $short into $tmp/other/classifier-[0-9a-f]{16}\.bin$" \
  env GANTRY_CACHE_DIR="$tmp/other" "$gantry" classifier import "$tmp/net.bin"
expect 0 "^weights sha256: $sha$" env GANTRY_CACHE_DIR="$tmp/other" "$gantry" classifier info
expect 2 "^gantry: error: $tmp/a\.db holds no feature network for recipe [0-9a-f]{16}" \
  env GANTRY_CACHE_DIR="$tmp/other" bash -c "'$gantry' classifier import '$tmp/net.bin' --db '$tmp/b.db' >/dev/null; '$gantry' query --db '$tmp/b.db' 'SELECT 1' >/dev/null; cp '$tmp/b.db' '$tmp/a.db'; sqlite3 '$tmp/a.db' 'DELETE FROM feature_networks'; '$gantry' classifier export '$tmp/x.bin' --db '$tmp/a.db'"
expect 0 "^$tmp/b\.db: its studies measure with $short$" \
  env GANTRY_CACHE_DIR="$tmp/other" "$gantry" classifier import "$tmp/net.bin" --db "$tmp/b.db"
# Another network (one weight differs) for the same study: refused, the study keeps its own.
cp "$tmp/net.bin" "$tmp/altered.bin"
printf '\x7f' | dd of="$tmp/altered.bin" bs=1 seek=$(($(stat -c %s "$tmp/altered.bin") - 1)) conv=notrunc status=none
expect 1 "^gantry: $tmp/b\.db already measures with feature network $short; a second one would make its runs incomparable" \
  env GANTRY_CACHE_DIR="$tmp/third" "$gantry" classifier import "$tmp/altered.bin" --db "$tmp/b.db"
expect 0 "^exported feature network $short " env GANTRY_CACHE_DIR="$tmp/third" "$gantry" classifier export "$tmp/y.bin" --db "$tmp/b.db"
# A file that is not a classifier: a clear error, exit 2, nothing written to the cache.
head -c 1000 /dev/zero > "$tmp/junk.bin"
expect 2 "^gantry: error: $tmp/junk\.bin is not a usable reference classifier \(unknown format\)$" \
  env GANTRY_CACHE_DIR="$tmp/fourth" "$gantry" classifier import "$tmp/junk.bin"
[ ! -e "$tmp/fourth" ] || fail "a refused import wrote into the cache"
cmp -s "$tmp/net.bin" "$tmp/y.bin" || fail "the study's network exported is not the file imported"
echo "classifier exchange: ok"
