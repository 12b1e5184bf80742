#pragma once
#include "run/progress.hpp"
#include "run/runner.hpp"
#include "run/transport.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

namespace gantry {

/// Runs an experiment's trials through a transport: decides what runs (skipping what is done),
/// claims each run in the store just before it starts (so concurrent gantry processes share the
/// work), enforces time limits and stop requests, and alone writes what the trials report.
class Scheduler final : private TransportListener {
 public:
  Scheduler(const Experiment& exp, ResultStore& store, const RunOptions& options, std::ostream& log,
            const std::atomic<int>* stop);
  RunSummary run(TrialTransport& transport);

 private:
  // A trial under way, seen from here.
  struct Active {
    std::unique_ptr<RunWriter> writer;
    std::optional<TrialResult> result;
    std::string error, malformed;
    std::chrono::steady_clock::time_point start;
    bool timed_out = false, killed_by_stop = false;
    int64_t last_step = 0;
    std::set<std::string, std::less<>> keys;  // the metric keys this trial may report
    std::vector<std::string> note_prefixes;   // "modes.": notes come from the trial's metrics
    int64_t steps = 0;
    std::string checkpoint_folder;   // the run's, relative to the database's checkpoint folder
    int64_t keep_checkpoints = 0;
    std::set<int64_t> resume_steps;  // the checkpoints the trial was offered
  };
  /// Whether an event is one this trial's trainer could have sent; a plugin can write anything
  /// into the event pipe, and what it forges must not reach the store.
  bool plausible(const Active& a, const Event& e) const;

  void plan();
  void report_other_builds(std::ostream& out);
  void launch_next(TrialTransport& transport);
  void apply_stop(TrialTransport& transport);
  void enforce_time_limits(TrialTransport& transport);
  void on_event(size_t record, const Event& event) override;
  void on_malformed(size_t record, std::string_view line) override;
  void on_finished(size_t record, const TrialExit& exit) override;
  void settle(RunRecord& rec, Active& a, const TrialExit& exit);
  CheckpointPlan checkpoint_plan(const RunRecord& rec, const ResultStore::Claim& claim, Active& a);
  void on_checkpoint(const RunRecord& rec, Active& a, const Event& e);
  void report_owned_elsewhere();

  const Experiment& exp_;
  ResultStore& store_;
  RunOptions options_;
  std::ostream& log_;
  const std::atomic<int>* stop_;
  RunSummary summary_;
  std::deque<size_t> queue_;
  std::map<size_t, Active> active_;
  std::ostringstream quiet_sink_;
  std::unique_ptr<ProgressView> view_;
  int threads_ = 1;
  double timeout_ = 0;
  int stop_seen_ = 0;
  std::chrono::steady_clock::time_point stop_time_;
};

}  // namespace gantry
