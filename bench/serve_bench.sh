#!/usr/bin/env bash
# gantry serve at scale: a database of 10,000 runs x 10 metric keys x 100 steps (10 million metric
# rows), some runs still running, then the time of each page as a browser would load it (curl, best
# of 3). Run from the repository root after scripts/build.sh:  bench/serve_bench.sh [RUNS] [PORT]
# SERVE_BENCH_DB=FILE keeps the database there (and reuses it when it exists) for another look.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10000}
port=${2:-18642}
work=$(mktemp -d)
gantry=./build/bin/gantry
server=
cleanup() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
db=${SERVE_BENCH_DB:-$work/big.db}

if [ ! -s "$db" ]; then
# The schema comes from gantry itself: run a one-step experiment.
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
-- 4 losses x 5 learning rates x the rest seeds; one run in 97 failed, the last 20 still running.
WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i + 1 < $runs)
INSERT INTO runs(id, experiment_id, identity, seed, status, step, steps, created_at)
  SELECT 1000 + i, 100, 'big' || i, i / 20,
         CASE WHEN i >= $runs - 20 THEN 'running' WHEN i % 97 = 0 THEN 'failed' ELSE 'completed' END, 99, 99, 'now' FROM r;
INSERT INTO params(run_id, key, value)
  SELECT id, 'loss.plugin', 'loss' || ((id - 1000) % 4) FROM runs WHERE experiment_id = 100;
INSERT INTO params(run_id, key, value)
  SELECT id, 'optimizer.lr', 1e-4 * (1 + ((id - 1000) / 4) % 5) FROM runs WHERE experiment_id = 100;
INSERT INTO params(run_id, key, value)
  SELECT id, 'train.steps', 100 FROM runs WHERE experiment_id = 100;
INSERT INTO metric_keys(key, direction, is_primary) SELECT 'm.k' || i, 'higher', i = 7
  FROM (WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < 10) SELECT i FROM k);
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < 10),
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
fi
id=$(sqlite3 "$db" "SELECT id FROM experiments WHERE name = 'big'")

"$gantry" serve --db "$db" --port "$port" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" > /dev/null && break; sleep 0.2; done

time_page() {  # label, path
  local best=999999 status
  for _ in 1 2 3; do
    read -r status t < <(curl -s -o "$work/out" -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$port$2")
    [ "$status" = 200 ] || { echo "$2: HTTP $status" >&2; exit 1; }
    best=$(echo "if ($t < $best) $t else $best" | bc -l)
  done
  printf '%-52s %8.3f s  %8s bytes\n' "$1" "$best" "$(wc -c < "$work/out")"
}

time_page "experiments list" "/"
time_page "experiment page (all $runs runs, primary metric, curves)" "/experiment/$id"
time_page "experiment page sorted by m.k7 final, descending" "/experiment/$id?sort=m.k7+final&desc=1"
time_page "experiment page filtered: loss.plugin=loss1, completed" "/experiment/$id?param=loss.plugin%3Dloss1&status=completed"
time_page "compare page (m.k7, by its sweep, with curves)" "/experiment/$id/compare"
time_page "curves.svg (m.k3)" "/experiment/$id/curves.svg?metric=m.k3"
time_page "live JSON" "/api/experiment/$id/live"
time_page "run page" "/run/1500"

# 100 page loads at once while a writer updates the running runs and adds metric rows (WAL: the
# readers never wait for it; none may see "database is locked").
( for i in $(seq 200); do
    sqlite3 "$db" "PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE;
      UPDATE runs SET step = step + 1 WHERE experiment_id = $id AND status = 'running';
      INSERT OR REPLACE INTO metrics SELECT id, 'm.k7', 100 + $i, 0.5 FROM runs WHERE experiment_id = $id AND status = 'running';
      COMMIT;" > /dev/null
  done ) &
writer=$!
start=$(date +%s.%N)
seq 100 | xargs -P 100 -I{} sh -c \
  "curl -s -o /dev/null -w '%{http_code}\n' \"http://127.0.0.1:$port/experiment/$id/compare?metric=m.k\$(({} % 10))\"" \
  > "$work/codes" || true
end=$(date +%s.%N)
wait "$writer"
printf '100 concurrent page loads (compare of a metric each) during writes: %.1f s; status codes: %s\n' \
  "$(echo "$end - $start" | bc -l)" "$(sort "$work/codes" | uniq -c | tr -s ' ' | tr '\n' ';')"
grep -q "database is locked" "$work/serve.log" && echo "the server saw 'database is locked'" || true
