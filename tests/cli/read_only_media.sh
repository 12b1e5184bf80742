#!/usr/bin/env bash
# Usage: read_only_media.sh GANTRY DB WORK — every command that reads results works on a database
# on read-only storage (no -shm can be created beside it) and creates nothing there. The storage is
# a tmpfs remounted read-only inside a private mount namespace (unshare -m), so nothing is left to
# clean up; where namespaces are not allowed the test is skipped (exit 77).
set -euo pipefail
gantry=$1 db=$2 work=$3
rm -rf "$work"
mkdir -p "$work/ro" "$work/out"
if ! unshare -m true 2>/dev/null; then
  echo "skipped: unshare -m is not allowed here"
  exit 77
fi
export gantry db work
exec unshare -m bash -euo pipefail -c '
mount -t tmpfs gantry-ro "$work/ro"
cp "$db" "$work/ro/r.db"
# A WAL database (file format byte 18 = 2) is the case that needs immutable=1: mode=ro alone fails.
[ "$(od -An -tu1 -j18 -N1 "$work/ro/r.db" | tr -d " ")" = 2 ] || { echo "$db is not in WAL mode"; exit 1; }
chmod 0444 "$work/ro/r.db"
chmod 0555 "$work/ro"
mount -o remount,ro "$work/ro"
ro=$work/ro/r.db out=$work/out
run() { "$gantry" "$@" --db "$ro" > "$out/last.txt" 2>&1 || { cat "$out/last.txt"; echo "failed: gantry $*"; exit 1; }; }
run status
run runs cli-tiny
run show 1
run compare cli-tiny --metric modes.modes
run query "SELECT COUNT(*) AS n FROM runs" --format csv
[ "$(cat "$out/last.txt")" = "$(printf "n\n2")" ] || { cat "$out/last.txt"; exit 1; }
run export cli-tiny -o "$out/x.csv"
run report cli-tiny -o "$out/r.html"
run plot cli-tiny --metric modes.modes -o "$out/p.png"
run samples 1 -o "$out/s.png"
left=$(ls -A "$work/ro")
[ "$left" = r.db ] || { echo "created on read-only storage: $left"; exit 1; }
set +e
"$gantry" export cli-tiny -o "$work/ro/x.csv" --db "$ro" 2> "$out/err.txt"
code=$?
set -e
[ $code -eq 2 ] && grep -qx "gantry: error: cannot write $work/ro/x.csv: Read-only file system" "$out/err.txt" ||
  { cat "$out/err.txt"; echo "export into read-only storage: exit $code"; exit 1; }
echo "read-only storage: ok"
'
