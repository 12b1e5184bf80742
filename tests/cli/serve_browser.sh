#!/usr/bin/env bash
# Usage: serve_browser.sh GANTRY DB WORK PNG_CHECK — gantry serve's pages load in a real browser
# (Debian's headless Chromium, no network): each page's DOM after its script ran holds the
# experiment's content, the live script has filled in the counts, and the screenshot is not blank.
set -euo pipefail
gantry=$1 db=$2 work=$3 check=$4
rm -rf "$work"
mkdir -p "$work"
"$gantry" serve --db "$db" --port 0 > "$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "^serving " "$work/serve.log" && break; sleep 0.1; done
url=$(sed -n 's/^serving .* at \(http:[^ ]*\)$/\1/p' "$work/serve.log")
[ -n "$url" ] || { cat "$work/serve.log"; exit 1; }
exp=$(sqlite3 -readonly "$db" "SELECT id FROM experiments WHERE name = 'cli-tiny'")
run=$(sqlite3 -readonly "$db" "SELECT MIN(id) FROM runs WHERE experiment_id = $exp")
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "chromium is not installed (scripts/install-deps.sh --test installs it)"
  exit 1
fi
chrome() {  # what, url
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --virtual-time-budget=3000 \
    --user-data-dir="$work/profile" --window-size=1200,1400 "$1" "$2" 2> "$work/chromium.log" ||
    { cat "$work/chromium.log"; exit 1; }
}
expect_dom() {  # path, text the rendered DOM must hold
  chrome --dump-dom "$url${1#/}" > "$work/dom.html"
  grep -qF -- "$2" "$work/dom.html" || { echo "$1: no '$2' in the page"; cat "$work/dom.html"; exit 1; }
}
expect_dom / '>cli-tiny</a>'
# The counts paragraph is empty in the HTML: only the live script fills it in.
expect_dom "/experiment/$exp" "data-experiment=\"$exp\">2 completed</p>"
expect_dom "/experiment/$exp" '<polyline points="'
expect_dom "/experiment/$exp/compare" "cli-tiny: modes.modes at each run's last step"
expect_dom "/run/$run" "src=\"/artifact/$run/20\""
cd "$work"
for page in "" "experiment/$exp" "experiment/$exp/compare" "run/$run"; do
  shot="shot-$(echo "${page:-list}" | tr / -).png"
  chrome --screenshot="$work/$shot" "$url$page" > /dev/null
  "$check" "$work/$shot" 50
done
echo "serve pages rendered: ok"
