#!/usr/bin/env bash
# Usage: serve_live.sh GANTRY CDP_WATCH — a page of gantry serve, open in headless Chromium while a
# sweep writes, follows it without a reload: the counts go from running to completed and the
# curves gain points (tests/tools/cdp_watch.py reads the DOM over the DevTools protocol).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
gantry=$1 watch=$2
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do ps -o pid= -s "$pid" | xargs -r kill -KILL 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || fail "chromium is not installed (scripts/install-deps.sh --test installs it)"

# Two trials one after the other (--jobs 1), each about 8 s idle, evaluated four times.
ring8_experiment "$work/x.toml" live "0, 1" 128000 32000
setsid "$gantry" run "$work/x.toml" --db "$work/r.db" --jobs 1 --threads 1 --progress quiet > "$work/run.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do
  [ "$(sqlite3 "$work/r.db" "SELECT COUNT(*) FROM runs WHERE status = 'running'" 2> /dev/null)" = 1 ] && break
  sleep 0.1
done
[ "$(sqlite3 "$work/r.db" "SELECT COUNT(*) FROM runs WHERE status = 'running'")" = 1 ] || fail "the sweep did not start: $(cat "$work/run.log")"

setsid "$gantry" serve --db "$work/r.db" --port 0 > "$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "^serving " "$work/serve.log" && break; sleep 0.1; done
url=$(sed -n 's/^serving .* at \(http:[^ ]*\)$/\1/p' "$work/serve.log")
[ -n "$url" ] || fail "gantry serve did not start: $(cat "$work/serve.log")"

setsid "$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --remote-debugging-port=0 --user-data-dir="$work/profile" \
  about:blank > "$work/chromium.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do [ -s "$work/profile/DevToolsActivePort" ] && break; sleep 0.1; done
port=$(head -n1 "$work/profile/DevToolsActivePort" 2> /dev/null || true)
[ -n "$port" ] || fail "chromium opened no DevTools port: $(cat "$work/chromium.log")"

# The counts paragraph and how many points the curves hold, until both trials have completed.
probe='document.getElementById("counts").textContent + " | points " + [...document.querySelectorAll("polyline")].reduce((n, p) => n + p.getAttribute("points").trim().split(/\s+/).length, 0)'
python3 "$watch" "$port" "${url}experiment/1" 90 "$probe" '^2 completed \|' > "$work/watch.log" ||
  fail "the page did not follow the sweep: $(cat "$work/watch.log")"
cat "$work/watch.log"
grep -qP '\t1 running \|' "$work/watch.log" || fail "the page never showed the first trial running"
grep -qP '\t1 completed, 1 running \|' "$work/watch.log" || fail "the page never showed the first trial completed"
first=$(head -n1 "$work/watch.log" | sed 's/.*points //')
last=$(tail -n1 "$work/watch.log" | sed 's/.*points //')
[ "$last" -gt "$first" ] || fail "the curves did not grow: $first points, then $last"
echo "live page followed the sweep: ok"
