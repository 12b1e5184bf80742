#!/usr/bin/env bash
# Usage: out_of_tree.sh BUILD_DIR WORK_DIR — the story of docs/writing-a-loss.md, end to end.
set -euo pipefail
build=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
prefix="$work/prefix"

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
gantry="$prefix/bin/gantry"
"$gantry" --version

"$gantry" new loss focal_ns --dir "$work/src"
cmake -S "$work/src/focal_ns" -B "$work/src/focal_ns/build" -DCMAKE_PREFIX_PATH="$prefix" > "$work/configure.log"
cmake --build "$work/src/focal_ns/build" > "$work/build.log"
(cd "$work/src/focal_ns/build" && ctest --output-on-failure)

plugin="$work/src/focal_ns/build/loss_focal_ns.so"
"$gantry" check "$plugin"
"$gantry" --plugin-path "$work/src/focal_ns/build" check focal_ns

cat > "$work/sweep.toml" <<'TOML'
[experiment]
name = "out-of-tree"
[data]
plugin = "ring8"
[generator]
plugin = "mlp"
width = 16
depth = 1
[discriminator]
plugin = "mlp"
width = 16
depth = 1
[loss]
plugin = "nonsaturating"
[train]
steps = 20
batch_size = 32
eval_every = 10
eval_samples = 200
[metrics.modes]
[sweep]
"loss.plugin" = ["focal_ns", "nonsaturating"]
TOML
GANTRY_PLUGIN_PATH="$work/src/focal_ns/build" "$gantry" run "$work/sweep.toml" --db "$work/results.db" --progress plain \
  | tee "$work/run.log"
grep -q "2 run(s): 2 completed" "$work/run.log"
sqlite3 "$work/results.db" "SELECT name, version FROM plugins WHERE kind = 'loss' ORDER BY name" | tee "$work/plugins.txt"
grep -q "^focal_ns|0.1.0$" "$work/plugins.txt"
# docs/writing-a-loss.md, step 5: the comparison query.
sqlite3 -header -column "$work/results.db" "
  SELECT p.value AS loss, COUNT(*) AS runs, AVG(f.value) AS modes, MIN(f.value) AS worst
  FROM final_metrics f
  JOIN params p ON p.run_id = f.run_id AND p.key = 'loss.plugin'
  JOIN run_overview r ON r.run_id = f.run_id AND r.experiment = 'out-of-tree'
  WHERE f.key = 'modes.modes' GROUP BY p.value ORDER BY modes DESC" | tee "$work/compare.txt"
grep -q "focal_ns" "$work/compare.txt"
echo "out-of-tree loss: ok"
