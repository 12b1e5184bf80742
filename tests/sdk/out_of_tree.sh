#!/usr/bin/env bash
# Usage: out_of_tree.sh BUILD_DIR WORK_DIR LOSS_REFERENCE — the story of docs/writing-a-loss.md,
# end to end (LOSS_REFERENCE: tests/tools/loss_reference, which compares a plugin with PyTorch).
set -euo pipefail
build=$1
work=$2
loss_reference=$3
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

# The installed example losses (docs/writing-a-loss.md shows them verbatim, tests/sdk/doc_examples.sh
# checks that), built as a folder out of tree: each passes gantry check (their ctest), and the
# RaGAN example matches PyTorch's RaGAN (tests/reference/relativistic_losses.json).
examples="$prefix/share/gantry/examples/losses"
cmake -S "$examples" -B "$work/examples" -DCMAKE_PREFIX_PATH="$prefix" > "$work/configure_examples.log"
cmake --build "$work/examples" > "$work/build_examples.log"
(cd "$work/examples" && ctest --output-on-failure)
"$loss_reference" "$work/examples/loss_my_ragan.so" relativistic_losses.json ragan

# gantry new loss NAME --direct: a batch-coupled gantry::Loss with hand-written gradients, which
# builds and passes gantry check (at its parameter's range ends too) as scaffolded.
"$gantry" new loss all_pairs --direct --dir "$work/src"
cmake -S "$work/src/all_pairs" -B "$work/src/all_pairs/build" -DCMAKE_PREFIX_PATH="$prefix" > "$work/configure_direct.log"
cmake --build "$work/src/all_pairs/build" > "$work/build_direct.log"
(cd "$work/src/all_pairs/build" && ctest --output-on-failure)
"$gantry" check "$work/src/all_pairs/build/loss_all_pairs.so" | tee "$work/check_direct.log"
grep -q "^at scale=10.0 (its max):$" "$work/check_direct.log"

# ... and my_ragan trained beside the built-in ragan: same seed, same numbers.
sed -e 's/^name = "out-of-tree"$/name = "out-of-tree-ragan"/' \
    -e 's/^"loss.plugin" = .*$/"loss.plugin" = ["my_ragan", "ragan"]/' "$work/sweep.toml" > "$work/ragan.toml"
GANTRY_PLUGIN_PATH="$work/examples" "$gantry" run "$work/ragan.toml" --db "$work/results.db" --progress plain \
  | tee "$work/ragan.log"
grep -q "2 run(s): 2 completed" "$work/ragan.log"
differing=$(sqlite3 "$work/results.db" "
  SELECT COUNT(*) FROM (SELECT m.key, m.step FROM metrics m
    JOIN run_overview r ON r.run_id = m.run_id AND r.experiment = 'out-of-tree-ragan'
    GROUP BY m.key, m.step HAVING COUNT(*) != 2 OR COUNT(DISTINCT m.value) != 1)")
points=$(sqlite3 "$work/results.db" "
  SELECT COUNT(*) FROM metrics m JOIN run_overview r ON r.run_id = m.run_id AND r.experiment = 'out-of-tree-ragan'")
echo "my_ragan vs ragan: $points points, $differing differing"
[ "$differing" = 0 ] && [ "$points" -gt 0 ]

echo "out-of-tree loss: ok"
