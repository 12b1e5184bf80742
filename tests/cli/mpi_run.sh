#!/usr/bin/env bash
# mpirun gantry run: a sweep spread over 3 ranks on this machine (oversubscribed), recorded once.
# Usage: mpi_run.sh CASE GANTRY MPIRUN FIXTURE_DIR, CASE one of:
#   sweep     every trial completed exactly once, the same metrics as a local run
#   kill      the whole job killed with SIGKILL mid-sweep; the same command resumes and completes it
#   term      SIGTERM to mpirun: running trials recorded interrupted; the same command completes them
#   kill10    kill -9 of a random rank or the whole job, 10 times; a rerun completes each trial once
#   mismatch  one rank resolves another build of a plugin: refused before anything is written
set -euo pipefail
source "$(dirname "$0")/lib.sh"
case=$1 gantry=$2 mpirun=$3 fixtures=$(realpath "$4")
tmp=$(mktemp -d)
job=""
cleanup() {
  # Only the job this script started: every process of its session (mpirun, ranks, workers).
  [ -n "$job" ] && ps -o pid= -s "$job" | xargs -r kill -KILL 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
q() { sqlite3 "$tmp/r.db" "$1"; }

# Six (or TRIALS) trials of a small GAN on ring8; `steps` decides how long each takes.
trials=6
experiment() {  # experiment STEPS LOSS [TRIALS]
  trials=${3:-6}
  ring8_experiment "$tmp/x.toml" mpi "$(seq -s, 0 $((trials - 1)))" "$1" $(( $1 / 2 )) "$2"
}
mpi_run() { "$mpirun" --oversubscribe -np 3 "$gantry" run "$tmp/x.toml" --db "$tmp/r.db" --threads 1 --progress plain "$@"; }
every_trial_completed_once() {
  [ "$(q "SELECT COUNT(*), COUNT(DISTINCT identity), SUM(status = 'completed') FROM runs")" = "$trials|$trials|$trials" ] ||
    fail "runs: $(q "SELECT id, seed, status, error FROM runs")"
  [ "$(q "PRAGMA integrity_check")" = "ok" ] || fail "integrity_check: $(q "PRAGMA integrity_check")"
}
start_job() {  # in a session of its own, so that the whole job can be found and killed
  setsid "$mpirun" --oversubscribe -np 3 "$gantry" run "$tmp/x.toml" --db "$tmp/r.db" --threads 1 --progress plain \
    > "$tmp/job.log" 2>&1 &
  job=$!
}
wait_for() {  # wait_for SQL-CONDITION: polls the database (up to 60 s)
  for _ in $(seq 600); do
    [ "$(q "SELECT COUNT(*) > 0 FROM runs WHERE $1" 2>/dev/null)" = "1" ] && return 0
    sleep 0.1
  done
  fail "timed out waiting for: $1; log: $(cat "$tmp/job.log")"
}

case $case in
sweep)
  experiment 20 minimax
  out=$(mpi_run) || fail "mpirun exited $?: $out"
  grep -q "^3 MPI ranks run up to 3 trial(s) at once$" <<<"$out" || fail "no rank line in: $out"
  grep -q "^experiment 'mpi': 6 run(s): 6 completed$" <<<"$out" || fail "summary: $out"
  every_trial_completed_once
  [ "$(q "SELECT GROUP_CONCAT(DISTINCT worker_rank) FROM (SELECT worker_rank FROM runs ORDER BY 1)")" = "0,1,2" ] ||
    fail "the trials did not run on every rank: $(q "SELECT id, worker_host, worker_rank FROM runs")"
  [ "$(q "SELECT COUNT(*) FROM runs WHERE worker_host = '$(hostname)' AND host = '$(hostname)'")" = "6" ] ||
    fail "hosts: $(q "SELECT id, host, worker_host FROM runs")"
  status=$("$gantry" status --db "$tmp/r.db")
  grep -Eq "^  host +ranks +completed +trial time$" <<<"$status" || fail "no host table in: $status"
  grep -Eq "^  $(hostname) +0,1,2 +6 +[0-9]+ s$" <<<"$status" || fail "no row for $(hostname) in: $status"
  # The same trials run locally (one thread, as each MPI trial) give the same numbers.
  "$gantry" run "$tmp/x.toml" --db "$tmp/local.db" --threads 1 --progress quiet > /dev/null
  metrics="SELECT r.seed, m.key, m.step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id ORDER BY 1, 2, 3"
  [ "$(sqlite3 "$tmp/local.db" "$metrics")" = "$(q "$metrics")" ] || fail "metrics differ from a local run"
  [ "$(sqlite3 "$tmp/local.db" "SELECT worker_rank IS NULL FROM runs LIMIT 1")" = "1" ] || fail "local runs have a rank"
  # Rank 0 only coordinating: every trial on ranks 1 and 2, 2 at a time.
  out=$(mpi_run --force --no-coordinator-trials) || fail "mpirun --no-coordinator-trials exited $?: $out"
  grep -q "^3 MPI ranks run up to 2 trial(s) at once$" <<<"$out" || fail "no rank line in: $out"
  every_trial_completed_once
  [ "$(q "SELECT GROUP_CONCAT(DISTINCT worker_rank) FROM (SELECT worker_rank FROM runs ORDER BY 1)")" = "1,2" ] ||
    fail "rank 0 ran trials: $(q "SELECT id, worker_rank FROM runs")"
  ;;
kill)
  experiment 4000 minimax  # long enough that trials still run after the first completes (0.4 s per 1,500 steps idle)
  start_job
  wait_for "status = 'completed'"
  # A process may end between ps and kill (a worker finishing): that is no failure of the test.
  ps -o pid= -s "$job" | xargs -r kill -KILL 2>/dev/null || true
  wait "$job" || true
  # Until every process is gone and reaped: a rerun takes over only the runs of a dead process.
  for _ in $(seq 100); do [ -z "$(ps -o pid= -s "$job")" ] && break; sleep 0.1; done
  job=""
  before=$(q "SELECT id, finished_at FROM runs WHERE status = 'completed' ORDER BY id")
  [ "$(q "SELECT COUNT(*) FROM runs WHERE status = 'running'")" -ge 1 ] || fail "nothing was running at the kill"
  out=$(mpi_run) || fail "the rerun exited $?: $out"
  grep -Eq "^[0-9]+ run\(s\) left running by a stopped gantry marked interrupted$" <<<"$out" || fail "rerun: $out"
  every_trial_completed_once
  # What had completed before the kill was kept, not run again.
  [ "$(q "SELECT id, finished_at FROM runs WHERE id IN ($(tr '\n' ',' <<<"$before" | sed 's/|[^,]*//g; s/,$//')) ORDER BY id")" = "$before" ] ||
    fail "completed runs were redone"
  ;;
term)
  experiment 8000 minimax  # a trial must outlast the poll that sees it running (1,500 steps took 0.4 s idle)
  start_job
  wait_for "status = 'running' AND step > 0"
  kill -TERM "$job"
  wait "$job" || true
  job=""
  [ "$(q "SELECT COUNT(*) FROM runs WHERE status = 'running'")" = "0" ] || fail "runs left running: $(q "SELECT id, status FROM runs")"
  [ "$(q "SELECT COUNT(*) FROM runs WHERE status = 'interrupted' AND error = 'interrupted'")" -ge 1 ] ||
    fail "no run recorded interrupted: $(q "SELECT id, status, error FROM runs")"
  grep -q "^interrupted: run the same command again to resume$" "$tmp/job.log" || fail "log: $(cat "$tmp/job.log")"
  out=$(mpi_run) || fail "the rerun exited $?: $out"
  every_trial_completed_once
  ;;
kill10)
  # kill -9 of a random rank, or of the whole job, ten times in a row; then the same command.
  # 12 trials of about 1.5 s (several times that under the sanitizers): each round kills within
  # 0.3 s of a first step, so few finish in the rounds and the rerun has most of them to complete.
  experiment 6000 minimax 12
  for round in $(seq 10); do
    start_job
    wait_for "status = 'running' AND step > 0"
    sleep "0.$((RANDOM % 4))"
    ranks=$(ps -o pid= --ppid "$(pgrep -s "$job" -x mpirun | head -1)" 2>/dev/null || true)
    victim=$(shuf -n1 -e whole $ranks)
    if [ "$victim" = whole ]; then ps -o pid= -s "$job" | xargs -r kill -KILL 2>/dev/null || true; else kill -KILL "$victim" 2>/dev/null || true; fi
    wait "$job" || true
    # mpirun stops the other ranks when one dies; whatever is left of the job goes too.
    for _ in $(seq 100); do [ -z "$(ps -o pid= -s "$job")" ] && break; sleep 0.1; done
    ps -o pid= -s "$job" | xargs -r kill -KILL 2>/dev/null || true
    job=""
    [ "$(q "PRAGMA integrity_check")" = "ok" ] || fail "round $round ($victim): integrity_check: $(q "PRAGMA integrity_check")"
    [ "$(q "SELECT COUNT(*) FROM runs WHERE status IN ('failed', 'diverged')")" = "0" ] ||
      fail "round $round ($victim): $(q "SELECT id, status, error FROM runs WHERE status IN ('failed', 'diverged')")"
  done
  out=$(mpi_run) || fail "the rerun exited $?: $out"
  every_trial_completed_once
  [ "$(q "SELECT COUNT(*) FROM runs WHERE status = 'running'")" = "0" ] || fail "runs left running"
  ;;
mismatch)
  experiment 20 rebuilt
  status=0
  out=$("$mpirun" --oversubscribe -np 2 "$gantry" --plugin-path "$fixtures/rebuilt1" run "$tmp/x.toml" --db "$tmp/r.db" : \
        -np 1 "$gantry" --plugin-path "$fixtures/rebuilt2" run "$tmp/x.toml" --db "$tmp/r.db" 2>&1) || status=$?
  [ "$status" = 2 ] || fail "exit $status, expected 2: $out"
  one=$(sha256sum "$fixtures/rebuilt1/fixture_rebuilt_loss_1.so" | cut -c1-12)
  two=$(sha256sum "$fixtures/rebuilt2/fixture_rebuilt_loss_2.so" | cut -c1-12)
  expected="gantry: error:   rank 2 on $(hostname): loss 'rebuilt' is $fixtures/rebuilt2/fixture_rebuilt_loss_2.so (version 1.0.0, sha256 $two); rank 0 has $fixtures/rebuilt1/fixture_rebuilt_loss_1.so (version 1.0.0, sha256 $one)"
  grep -qxF "gantry: error: the ranks differ, so nothing was run:" <<<"$out" || fail "no refusal in: $out"
  grep -qxF "$expected" <<<"$out" || fail "expected '$expected' in: $out"
  [ ! -e "$tmp/r.db" ] || fail "a refused job created the database"
  ;;
*) fail "unknown case $case" ;;
esac
echo "ok: $case"
