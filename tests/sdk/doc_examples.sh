#!/usr/bin/env bash
# Usage: doc_examples.sh SOURCE_DIR — every complete example in docs/writing-a-loss.md (a ```cpp
# block holding GANTRY_PLUGIN) must follow a line `<!-- file: examples/losses/X.cpp -->` and be that
# file exactly; every example loss must be shown. So the page, the installed examples and gantry
# new's scaffolds (made from the same files) cannot drift apart.
set -euo pipefail
src=$1
doc="$src/docs/writing-a-loss.md"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Splits the page into block files: NNN.cpp with the text, NNN.file with the marker's path (if any).
awk -v out="$work" '
  /^<!-- file: .* -->$/ { marker = $3; next }
  /^```cpp$/ { n++; name = sprintf("%s/%03d", out, n); if (marker != "") print marker > (name ".file");
               marker = ""; inside = 1; printf "" > (name ".cpp"); next }
  inside && /^```$/ { inside = 0; next }
  inside { print >> (name ".cpp"); next }
  { if ($0 != "") marker = "" }
' "$doc"
status=0
shown=0
for block in "$work"/*.cpp; do
  if [ -f "${block%.cpp}.file" ]; then
    file=$(cat "${block%.cpp}.file")
    if ! diff -u "$src/$file" "$block" > "$work/diff"; then
      echo "docs/writing-a-loss.md: the block marked $file differs from the file:"; cat "$work/diff"; status=1
    fi
    shown=$((shown + 1))
    echo "$file" >> "$work/shown"
  elif grep -q "GANTRY_PLUGIN(" "$block"; then
    echo "docs/writing-a-loss.md: a complete example without a '<!-- file: ... -->' marker:"; head -3 "$block"; status=1
  fi
done
for f in "$src"/examples/losses/*.cpp; do
  rel=${f#"$src/"}
  if ! grep -qx "$rel" "$work/shown" 2>/dev/null; then echo "docs/writing-a-loss.md does not show $rel"; status=1; fi
done
[ "$status" = 0 ] && [ "$shown" -gt 0 ] && echo "doc examples: ok ($shown files)"
exit "$status"
