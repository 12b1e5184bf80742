#pragma once
#include "config/experiment.hpp"
#include "train/events.hpp"

#include <gantry/tensor.hpp>

#include <atomic>
#include <functional>
#include <string>

namespace gantry {

enum class TrialOutcome { completed, diverged, interrupted };

struct TrialResult {
  TrialOutcome outcome = TrialOutcome::completed;
  int64_t step = 0;        ///< last step reached
  std::string message;     ///< why it diverged or stopped
  int64_t d_updates = 0;   ///< optimizer steps taken by D (n_critic per step)
  int64_t g_updates = 0;
};

/// Runs one trial: builds the plugins, then per step n_critic D updates and one G update, logging
/// the losses every log_every steps and evaluating the metrics at step 0, every eval_every steps
/// and at the end. Plugin errors propagate as exceptions (the caller records the trial as failed).
class Trainer {
 public:
  /// The trial stops, as interrupted, at the next step once `*stop` is non-zero.
  Trainer(const TrialConfig& trial, EventSink& sink, const std::atomic<int>* stop = nullptr);
  TrialResult run();
  /// Called at every evaluation with G's samples on the fixed evaluation z (e.g. to draw them).
  void on_evaluation(std::function<void(int64_t step, const Tensor& generated)> observer) {
    observer_ = std::move(observer);
  }
  /// Called after each step's G update, before any evaluation (e.g. to time steps).
  void on_step(std::function<void(int64_t step)> observer) { step_observer_ = std::move(observer); }

 private:
  std::function<void(int64_t)> step_observer_;
  std::function<void(int64_t, const Tensor&)> observer_;
  const TrialConfig& trial_;
  EventSink& sink_;
  const std::atomic<int>* stop_;
};

/// Makes a plugin object of interface T from a resolved section; PluginError if the plugin made
/// something else.
template <class T>
std::unique_ptr<T> instantiate(const PluginChoice& choice, const BuildContext& ctx);

}  // namespace gantry
