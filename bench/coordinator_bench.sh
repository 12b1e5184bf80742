#!/usr/bin/env bash
# MPI coordinator load: can rank 0 keep up? Oversubscribed ranks flood it with metric events (a
# loss point every step), then with trial starts and ends (trials of two steps). Rank 0 only
# coordinates (--no-coordinator-trials), so its CPU time is the coordinator's cost alone: per
# event and per trial, the constants of the scaling model in docs/PERFORMANCE.md.
# Run from the repository root after scripts/build.sh:  bench/coordinator_bench.sh [RANKS] [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
ranks=${1:-9} steps=${2:-20000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1

experiment() {  # experiment NAME TRIALS STEPS
  cat > "$work/$1.toml" <<TOML
[experiment]
name = "$1"
seeds = [$(seq -s, 0 $(($2 - 1)))]
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
plugin = "minimax"
[train]
steps = $3
batch_size = 8
log_every = 1
eval_every = $3
eval_samples = 100
[metrics.modes]
TOML
}

run() {  # run NAME: prints "wall cpu events trials"
  mpirun --oversubscribe -np "$ranks" ./build/bin/gantry run "$work/$1.toml" --db "$work/$1.db" --threads 1 \
    --no-coordinator-trials --progress quiet > "$work/$1.log"
  read -r wall cpu < <(sed -nE 's/^wall ([0-9.]+) s; scheduler CPU ([0-9.]+) s.*/\1 \2/p' "$work/$1.log")
  local events trials
  events=$(sqlite3 "$work/$1.db" "SELECT COUNT(*) FROM metrics")
  trials=$(sqlite3 "$work/$1.db" "SELECT COUNT(*) FROM runs WHERE status = 'completed'")
  echo "$wall $cpu $events $trials"
}

workers=$((ranks - 1))
experiment flood $((2 * workers)) "$steps"
experiment churn 400 2
echo "rank 0 coordinating $workers worker ranks (oversubscribed on $(nproc --all) cores), one trial each at a time"
read -r fw fc fe ft < <(run flood)
read -r cw cc ce ct < <(run churn)
printf '%-7s %7s %9s %9s %12s %12s %15s\n' load trials events "wall (s)" "events/s" "trials/hour" "rank 0 CPU (s)"
printf '%-7s %7d %9d %9.1f %12.0f %12.0f %15.2f\n' flood "$ft" "$fe" "$fw" "$(bc -l <<<"$fe / $fw")" "$(bc -l <<<"$ft * 3600 / $fw")" "$fc"
printf '%-7s %7d %9d %9.1f %12.0f %12.0f %15.2f\n' churn "$ct" "$ce" "$cw" "$(bc -l <<<"$ce / $cw")" "$(bc -l <<<"$ct * 3600 / $cw")" "$cc"
# The coordinator's own cost: CPU per event from the flood (its trial overheads are a few of many
# thousands of events), CPU per trial from the churn once its events are taken off.
per_event=$(bc -l <<<"$fc / $fe")
per_trial=$(bc -l <<<"($cc - $ce * $per_event) / $ct")
printf 'rank 0 CPU per metric event: %.2f us  -> one coordinator core sustains %.0f events/s\n' \
  "$(bc -l <<<"$per_event * 1000000")" "$(bc -l <<<"1 / $per_event")"
printf 'rank 0 CPU per trial (claim, start, finish): %.2f ms -> %.0f trials/hour\n' \
  "$(bc -l <<<"$per_trial * 1000")" "$(bc -l <<<"3600 / $per_trial")"
