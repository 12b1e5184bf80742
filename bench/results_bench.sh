#!/usr/bin/env bash
# Reading results at scale: a database of 2,000 runs x 50 metric keys x 100 steps (10 million metric
# rows), then the time of `gantry compare` and of `gantry export`. Run from the repository root
# after scripts/build.sh:  bench/results_bench.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-2000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/big.db"
gantry=./build/bin/gantry

# The schema comes from gantry itself: a dry run never writes, so run a one-step experiment.
cat > "$work/one.toml" <<'TOML'
[experiment]
name = "seed-db"
[data]
plugin = "ring8"
[generator]
plugin = "mlp"
width = 8
depth = 1
[discriminator]
plugin = "mlp"
width = 8
depth = 1
[loss]
plugin = "nonsaturating"
[train]
steps = 1
eval_samples = 10
TOML
"$gantry" run "$work/one.toml" --db "$db" --progress quiet > /dev/null

start=$(date +%s.%N)
sqlite3 "$db" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
INSERT INTO experiments(id, name, created_at, updated_at, sweep_columns, metrics)
  VALUES (100, 'big', 'now', 'now', '["loss.plugin", "optimizer.lr"]', '["m"]');
-- 2,000 runs: 4 losses x 5 learning rates x 100 seeds.
WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i + 1 < $runs)
INSERT INTO runs(id, experiment_id, identity, seed, status, step, steps, created_at)
  SELECT 1000 + i, 100, 'big' || i, i / 20, CASE WHEN i % 97 = 0 THEN 'failed' ELSE 'completed' END, 99, 99, 'now' FROM r;
INSERT INTO params(run_id, key, value)
  SELECT id, 'loss.plugin', 'loss' || ((id - 1000) % 4) FROM runs WHERE experiment_id = 100;
INSERT INTO params(run_id, key, value)
  SELECT id, 'optimizer.lr', 1e-4 * (1 + ((id - 1000) / 4) % 5) FROM runs WHERE experiment_id = 100;
INSERT INTO params(run_id, key, value)
  SELECT id, 'train.steps', 100 FROM runs WHERE experiment_id = 100;
INSERT INTO metric_keys(key, direction, is_primary) SELECT 'm.k' || i, 'higher', i = 7
  FROM (WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < 50) SELECT i FROM k);
-- 50 keys x 100 steps per run.
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < 50),
               s(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM s WHERE j + 1 < 100)
INSERT INTO metrics(run_id, key, step, value)
  SELECT r.id, 'm.k' || k.i, s.j, ((r.id * 7919 + k.i * 104729 + s.j * 13) % 1000) / 1000.0
  FROM runs r, k, s WHERE r.experiment_id = 100;
COMMIT;
SQL
end=$(date +%s.%N)
rows=$(sqlite3 "$db" "SELECT COUNT(*) FROM metrics WHERE run_id >= 1000")
printf 'built %s metric rows for %s runs in %.0f s (%s MB)\n' "$rows" "$runs" "$(echo "$end - $start" | bc -l)" \
  "$(du -m "$db" | cut -f1)"

time_it() {  # label, command...
  local label=$1
  shift
  local best=999999
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" > "$work/out" 2>/dev/null
    t1=$(date +%s.%N)
    best=$(echo "if ($t1 - $t0 < $best) $t1 - $t0 else $best" | bc -l)
  done
  printf '%-44s %8.3f s (best of 3)\n' "$label" "$best"
  echo "$best"  > "$work/last"
}

time_it "compare --metric m.k7 (final)" "$gantry" compare big --metric m.k7 --db "$db"
head -3 "$work/out"
time_it "compare (the primary key, m.k7)" "$gantry" compare big --db "$db"
time_it "compare --metric m.k7 --at best" "$gantry" compare big --metric m.k7 --at best --db "$db"
time_it "compare --metric m.k7 --by loss.plugin --at 50" "$gantry" compare big --metric m.k7 --by loss.plugin --at 50 --db "$db"
time_it "export --format csv (all $rows rows)" "$gantry" export big --format csv -o "$work/big.csv" --db "$db"
printf 'export: %.0f rows per second\n' "$(echo "$rows / $(cat "$work/last")" | bc -l)"
