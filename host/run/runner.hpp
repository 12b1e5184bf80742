#pragma once
#include "config/experiment.hpp"
#include "store/store.hpp"

#include <atomic>
#include <ostream>

namespace gantry {

struct RunOptions {
  bool force = false;  ///< rerun trials that already completed
  int threads = 0;     ///< oneDNN threads; 0 keeps the runtime's default (all cores)
};

struct RunRecord {
  int64_t run_id = 0;
  uint64_t seed = 0;
  std::string identity;
  RunStatus status = RunStatus::queued;
  std::string error;
  bool skipped = false;  ///< completed earlier with the same identity
  double wall_seconds = 0;
  std::vector<std::pair<std::string, double>> final_metrics;
};

struct RunSummary {
  int64_t experiment_id = 0;
  std::vector<RunRecord> runs;
  bool interrupted = false;
  bool any_failed() const;
};

/// Runs every trial of the experiment in this process, recording each in the store. A trial whose
/// plugin throws is recorded as failed and the next trial starts; `stop` ends the current trial
/// as interrupted and starts no more.
RunSummary run_experiment(const Experiment& exp, ResultStore& store, const RunOptions& options, std::ostream& log,
                          const std::atomic<bool>* stop = nullptr);

}  // namespace gantry
