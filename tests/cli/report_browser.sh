#!/usr/bin/env bash
# Usage: report_browser.sh GANTRY DB WORK PNG_CHECK — gantry report must load in a real browser
# (Debian's headless Chromium, no network) and render to a screenshot that is not blank.
set -euo pipefail
gantry=$1 db=$2 work=$3 check=$4
rm -rf "$work"
mkdir -p "$work"
"$gantry" report cli-tiny --db "$db" -o "$work/report.html"
"$gantry" plot cli-tiny --metric modes.reverse_kl --db "$db" -o "$work/curves.png"
"$check" "$work/curves.png" 4
grep -q "<img alt=\"samples\" src=\"data:image/png;base64," "$work/report.html"
if grep -qE '(src|href)="https?:' "$work/report.html"; then
  echo "the report must not need the network"
  exit 1
fi
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "chromium is not installed (scripts/install-deps.sh --test installs it)"
  exit 1
fi
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --window-size=1200,1600 --screenshot="$work/shot.png" \
  "file://$work/report.html" > "$work/chromium.log" 2>&1 || { cat "$work/chromium.log"; exit 1; }
"$check" "$work/shot.png" 50
echo "report rendered: ok"
