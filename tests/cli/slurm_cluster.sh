#!/usr/bin/env bash
# A real single-node SLURM cluster on localhost: munged, slurmctld and slurmd from Debian, started
# here with a generated slurm.conf and stopped after. `gantry slurm --submit` runs a sweep on it
# with srun --mpi=pmix (2 ranks); then scancel (SIGTERM, as at the time limit) mid-sweep leaves
# the running trials interrupted, and submitting the same script again completes them.
# Usage: slurm_cluster.sh GANTRY
set -euo pipefail
source "$(dirname "$0")/lib.sh"
gantry=$(realpath "$1")
for tool in munged mungekey slurmctld slurmd sbatch squeue scancel sinfo sqlite3; do
  command -v "$tool" > /dev/null || { echo "SKIPPED: $tool not found (scripts/install-deps.sh --test installs slurm-wlm and munge)"; exit 0; }
done
tmp=$(mktemp -d)  # 0700: munged refuses a key or socket that others can reach
fail() {
  echo "FAIL: $*"
  for f in "$tmp"/log/*; do echo "== $f"; tail -n 20 "$f"; done
  exit 1
}
stop_cluster() {
  [ -f "$tmp/slurmctld.pid" ] && SLURM_CONF=$tmp/slurm.conf scancel --quiet --full -u root 2> /dev/null || true
  for pidfile in slurmd.pid slurmctld.pid munged.pid; do
    [ -f "$tmp/$pidfile" ] && kill -TERM "$(cat "$tmp/$pidfile")" 2> /dev/null || true
  done
  # Until every daemon and job step of this cluster is gone, so that nothing outlives the test.
  for _ in $(seq 100); do pgrep -f "$tmp" > /dev/null || break; sleep 0.1; done
  pkill -KILL -f "$tmp" 2> /dev/null || true
  rm -rf "$tmp"
}
trap stop_cluster EXIT
mkdir -p "$tmp/log" "$tmp/state" "$tmp/spool"
q() { sqlite3 "$tmp/r.db" "$1"; }

# Ports of this cluster's own, so that a SLURM already on the machine is not disturbed.
port=$((20000 + RANDOM % 20000))
host=$(hostname -s)
mungekey --create --keyfile="$tmp/munge.key" --bits=1024
chmod 400 "$tmp/munge.key"
munged --force --socket="$tmp/munge.socket" --key-file="$tmp/munge.key" --log-file="$tmp/log/munged.log" \
  --pid-file="$tmp/munged.pid" --seed-file="$tmp/munged.seed" 2> "$tmp/log/munged.err" || fail "munged did not start"
cat > "$tmp/slurm.conf" <<CONF
ClusterName=gantrytest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge.socket
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
KillWait=20
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=gantry Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -f "$SLURM_CONF" -i || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for _ in $(seq 100); do [ "$(sinfo -h -o %T 2> /dev/null)" = idle ] && break; sleep 0.2; done
[ "$(sinfo -h -o %T)" = idle ] || fail "the node is not idle: $(sinfo)"

# Four trials; each long enough (about 3 s) to still run when the scancel comes.
ring8_experiment "$tmp/x.toml" slurm "0, 1, 2, 3" 12000 6000 minimax "checkpoint_every = 2000"
submit() {
  out=$(cd "$tmp" && "$gantry" slurm x.toml --db r.db --nodes 1 --tasks-per-node 2 --jobs 1 --threads 1 --time 10 \
        --output "$tmp/job-%j.out" --submit) || fail "gantry slurm --submit exited $?: $out"
  grep -qx "wrote slurm.sbatch" <<<"$out" || fail "no script in: $out"
  id=$(sed -n 's/^submitted job \([0-9][0-9]*\)$/\1/p' <<<"$out")
  [ -n "$id" ] || fail "no job id in: $out"
}
wait_job() {  # until job $id has left the queue (up to 120 s)
  for _ in $(seq 600); do [ -z "$(squeue -h -j "$id" 2> /dev/null)" ] && return 0; sleep 0.2; done
  fail "job $id still queued: $(squeue)"
}

# A time limit's SIGTERM mid-sweep: the running trials are recorded interrupted, none left running.
submit
for _ in $(seq 600); do [ "$(q "SELECT COUNT(*) FROM runs WHERE status = 'running' AND step > 0" 2> /dev/null)" = 2 ] && break; sleep 0.1; done
[ "$(q "SELECT COUNT(*) FROM runs WHERE status = 'running' AND step > 0")" = 2 ] || fail "no trial ran: $(cat "$tmp"/job-*.out)"
scancel --signal=TERM "$id"  # to the job steps, as --signal=TERM@60 does at the time limit
wait_job
grep -qx "interrupted: run the same command again to resume" "$tmp/job-$id.out" || fail "job log: $(cat "$tmp/job-$id.out")"
[ "$(q "SELECT COUNT(*) FROM runs WHERE status = 'running'")" = 0 ] || fail "runs left running: $(q "SELECT id, status FROM runs")"
[ "$(q "SELECT COUNT(*) FROM runs WHERE status = 'interrupted'")" -ge 1 ] || fail "nothing interrupted: $(q "SELECT id, status, error FROM runs")"

# The same script again: every trial completed exactly once, on both ranks of the allocation.
submit
wait_job
[ "$(q "SELECT COUNT(*), COUNT(DISTINCT identity), SUM(status = 'completed') FROM runs")" = "4|4|4" ] ||
  fail "runs: $(q "SELECT id, seed, status, error FROM runs"); job log: $(cat "$tmp/job-$id.out")"
[ "$(q "SELECT GROUP_CONCAT(DISTINCT worker_rank) FROM (SELECT worker_rank FROM runs ORDER BY 1)")" = "0,1" ] ||
  fail "ranks: $(q "SELECT id, worker_host, worker_rank FROM runs")"
grep -q "^2 MPI ranks run up to 2 trial(s) at once$" "$tmp/job-$id.out" || fail "job log: $(cat "$tmp/job-$id.out")"
[ "$(q "PRAGMA integrity_check")" = ok ] || fail "integrity_check: $(q "PRAGMA integrity_check")"
echo "ok: slurm cluster"
