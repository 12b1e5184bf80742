#include "run/runner.hpp"

#include "train/trainer.hpp"

#include <gantry/engine.hpp>
#include <gantry/error.hpp>
#include <gantry/metric.hpp>

#include <chrono>
#include <fmt/format.h>

namespace gantry {

namespace {

using Clock = std::chrono::steady_clock;

// Persists through the store and prints a progress line at most every few seconds.
class ProgressSink final : public EventSink {
 public:
  ProgressSink(RunWriter& writer, std::ostream& log, std::string label)
      : writer_(writer), log_(log), label_(std::move(label)), start_(Clock::now()), last_(start_) {}
  void metric(int64_t step, std::string_view key, double value) override { writer_.metric(step, key, value); }
  void flush() override { writer_.flush(); }
  void progress(int64_t step, int64_t steps, double d_loss, double g_loss) override {
    const auto now = Clock::now();
    if (step != steps && now - last_ < std::chrono::seconds(5)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    log_ << fmt::format("{} step {}/{}  {:.0f} steps/s  loss.d {:.4f}  loss.g {:.4f}\n", label_, step, steps,
                        secs > 0 ? static_cast<double>(step) / secs : 0.0, d_loss, g_loss)
         << std::flush;
  }

 private:
  RunWriter& writer_;
  std::ostream& log_;
  std::string label_;
  Clock::time_point start_, last_;
};

}  // namespace

bool RunSummary::any_failed() const {
  for (const auto& r : runs)
    if (r.status == RunStatus::failed) return true;
  return false;
}

RunSummary run_experiment(const Experiment& exp, ResultStore& store, const RunOptions& options, std::ostream& log,
                          const std::atomic<bool>* stop) {
  set_num_threads(options.threads);
  RunSummary summary;
  summary.experiment_id = store.upsert_experiment(exp);
  for (const auto& m : exp.base.metrics) {
    // Metric keys are declared by the plugin; instantiate once to ask (metrics are cheap to make).
    BuildContext ctx{{}, 0};
    store.record_metric_keys(m.plugin(), instantiate<Metric>(m, ctx)->keys());
  }
  store.record_metric_keys("loss", {{"d", Direction::lower_is_better, "discriminator loss"},
                                    {"g", Direction::lower_is_better, "generator loss"}});

  for (const TrialConfig& trial : exp.trials()) {
    if (stop != nullptr && stop->load()) {
      summary.interrupted = true;
      break;
    }
    RunRecord rec;
    rec.seed = trial.seed;
    rec.identity = trial_identity(trial);
    if (auto existing = store.find_run(summary.experiment_id, rec.identity);
        existing && existing->status == RunStatus::completed && !options.force) {
      rec.run_id = existing->id;
      rec.status = RunStatus::completed;
      rec.skipped = true;
      rec.final_metrics = store.final_metrics(rec.run_id);
      log << fmt::format("run {} (seed {}) already completed; skipped (use --force to rerun)\n", rec.run_id,
                         rec.seed);
      summary.runs.push_back(std::move(rec));
      continue;
    }
    rec.run_id = store.start_run(summary.experiment_id, trial, rec.identity, num_threads());
    const std::string label = fmt::format("[run {} seed {}]", rec.run_id, rec.seed);
    log << fmt::format("{} started: {} / {} on {}\n", label, trial.loss.plugin(), trial.generator.plugin(),
                       trial.data.plugin());
    RunWriter writer(store, rec.run_id);
    ProgressSink sink(writer, log, label);
    const auto t0 = Clock::now();
    int64_t step = 0;
    try {
      TrialResult result = Trainer(trial, sink, stop).run();
      step = result.step;
      rec.error = result.message;
      rec.status = result.outcome == TrialOutcome::completed  ? RunStatus::completed
                   : result.outcome == TrialOutcome::diverged ? RunStatus::diverged
                                                              : RunStatus::interrupted;
    } catch (const std::exception& e) {
      rec.status = RunStatus::failed;
      rec.error = e.what();
    }
    try {
      writer.flush();  // what was measured before a failure is kept
    } catch (const std::exception& e) {
      log << fmt::format("{} could not save its last metrics: {}\n", label, e.what());
    }
    rec.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    store.finish_run(rec.run_id, rec.status, rec.error, step, rec.wall_seconds);
    rec.final_metrics = store.final_metrics(rec.run_id);
    log << fmt::format("{} {} in {:.1f} s{}\n", label, to_string(rec.status), rec.wall_seconds,
                       rec.error.empty() ? "" : ": " + rec.error);
    if (rec.status == RunStatus::interrupted) summary.interrupted = true;
    summary.runs.push_back(std::move(rec));
  }
  return summary;
}

}  // namespace gantry
