#pragma once
#include "config/experiment.hpp"
#include "store/store.hpp"

#include <atomic>
#include <ostream>

namespace gantry {

class TrialTransport;

enum class ProgressStyle { automatic, live, plain, quiet };

struct RunOptions {
  bool force = false;        ///< rerun trials that already completed
  bool rerun_failed = true;  ///< rerun trials that failed or diverged before
  int jobs = 1;              ///< trials at once, each in its own worker process
  int threads = 0;           ///< oneDNN threads per worker; 0 = cores / jobs
  double trial_timeout = -1; ///< seconds; < 0 = the experiment's timeout; 0 = none
  double stop_grace = 3;     ///< seconds trials get to end after a stop request before they are killed
  uint64_t memory_per_job = 0;  ///< bytes of address space per trial; 0 = the machine's memory / jobs
  ProgressStyle progress = ProgressStyle::automatic;
};

struct RunRecord {
  size_t trial = 0;  ///< index into Experiment::trials
  int64_t run_id = 0;
  uint64_t seed = 0;
  std::string identity;
  RunStatus status = RunStatus::queued;
  std::string error;
  bool skipped = false;  ///< finished earlier with the same identity and not rerun
  bool owned_elsewhere = false;  ///< another live gantry process is running it (`error` says which)
  double wall_seconds = 0;
  std::vector<std::pair<std::string, double>> final_metrics;
};

struct RunSummary {
  int64_t experiment_id = 0;
  std::vector<RunRecord> runs;  ///< one per trial, in trial order (those started or skipped)
  bool interrupted = false;
  int recovered = 0;            ///< runs left 'running' by a dead process, now 'interrupted'
  double wall_seconds = 0;
  double parent_cpu_seconds = 0;  ///< the scheduler's own CPU time, training excluded
  bool any_failed() const;
};

/// Runs the experiment's trials, `jobs` at a time, each in a forked, contained worker process
/// that sends its events back over a pipe (LocalTransport, through the Scheduler); this process
/// alone writes the store. A worker that throws, aborts, crashes or times out fails its own run
/// only, and every process it started ends with it. Completed runs with the same identity are
/// skipped (unless force), and so are runs another live gantry process is running. `stop`
/// counts interrupt requests: at 1 workers finish their current step (killed after
/// `stop_grace` seconds) and their runs are recorded as interrupted; at 2 they are killed at once.
/// `transport` replaces the local workers (an MPI run's); its capacity replaces `jobs`.
RunSummary run_experiment(const Experiment& exp, ResultStore& store, const RunOptions& options, std::ostream& log,
                          const std::atomic<int>* stop = nullptr, TrialTransport* transport = nullptr);

/// Marks runs left 'running' by a process that no longer exists (on this host) as interrupted.
int recover_stale_runs(ResultStore& store);
/// Whether the gantry process recorded as running a run (pid on host) still exists.
bool run_owner_alive(int64_t pid, const std::string& host);

}  // namespace gantry
