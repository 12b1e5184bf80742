#pragma once
#include "config/experiment.hpp"
#include "train/events.hpp"

#include <atomic>
#include <string>

namespace gantry {

enum class TrialOutcome { completed, diverged, interrupted };

struct TrialResult {
  TrialOutcome outcome = TrialOutcome::completed;
  int64_t step = 0;        ///< last step reached
  std::string message;     ///< why it diverged or stopped
};

/// Runs one trial: builds the plugins, then per step n_critic D updates and one G update, logging
/// the losses every log_every steps and evaluating the metrics at step 0, every eval_every steps
/// and at the end. Plugin errors propagate as exceptions (the caller records the trial as failed).
class Trainer {
 public:
  Trainer(const TrialConfig& trial, EventSink& sink, const std::atomic<bool>* stop = nullptr);
  TrialResult run();

 private:
  const TrialConfig& trial_;
  EventSink& sink_;
  const std::atomic<bool>* stop_;
};

/// Makes a plugin object of interface T from a resolved section; PluginError if the plugin made
/// something else.
template <class T>
std::unique_ptr<T> instantiate(const PluginChoice& choice, const BuildContext& ctx);

}  // namespace gantry
