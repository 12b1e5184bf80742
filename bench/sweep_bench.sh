#!/usr/bin/env bash
# Sweep throughput: the same 12-trial ring8 sweep with --jobs 1 and --jobs 2, and the share of
# wall time the scheduler (the parent process) spends on its own CPU. Run from the repository
# root after scripts/build.sh:  bench/sweep_bench.sh [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-1500}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -e "s/^steps = .*/steps = $steps/" experiments/ring8_lr.toml > "$work/sweep.toml"

run() {  # jobs
  local out="$work/jobs$1.log"
  ./build/bin/gantry run "$work/sweep.toml" --db "$work/jobs$1.db" --jobs "$1" --progress quiet > "$out"
  grep -E '^wall ' "$out" | sed -E 's/wall ([0-9.]+) s; scheduler CPU ([0-9.]+) s \(([0-9.]+)% of wall\)/\1 \2 \3/'
}

echo "12 trials (2 losses x 2 learning rates x 3 seeds, experiments/ring8_lr.toml), $steps steps each, $(nproc) cores"
read -r wall1 cpu1 share1 < <(run 1)
read -r wall2 cpu2 share2 < <(run 2)
printf '%-8s %10s %14s %18s\n' jobs "wall (s)" "trials/hour" "scheduler CPU %"
printf '%-8s %10.1f %14.0f %18.2f\n' 1 "$wall1" "$(echo "12 * 3600 / $wall1" | bc -l)" "$share1"
printf '%-8s %10.1f %14.0f %18.2f\n' 2 "$wall2" "$(echo "12 * 3600 / $wall2" | bc -l)" "$share2"
printf 'speed-up with --jobs 2: %.2fx\n' "$(echo "$wall1 / $wall2" | bc -l)"
