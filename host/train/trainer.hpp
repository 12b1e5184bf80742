#pragma once
#include "config/experiment.hpp"
#include "train/checkpointer.hpp"
#include "train/events.hpp"

#include <gantry/data.hpp>
#include <gantry/error.hpp>
#include <gantry/loss.hpp>
#include <gantry/metric.hpp>
#include <gantry/model.hpp>
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

/// The plugin objects of one trial, built from its config and checked to fit together.
struct TrialModels {
  std::unique_ptr<DataSource> data;
  std::unique_ptr<Generator> generator;
  std::unique_ptr<Discriminator> discriminator;
  std::unique_ptr<Loss> loss;
  std::vector<std::unique_ptr<Metric>> metrics;
  std::vector<int64_t> sample_shape;
  int64_t n_critic = 1;  ///< train.n_critic, or the loss's default
  int64_t num_classes = 0;  ///< [train] conditional: the data's classes (G's and D's label slots); else 0
};

/// A plugin that failed while being built or checked, with the config section it came from
/// ("generator", "metrics.modes"), so a caller can point at the file.
class SectionError : public PluginError {
 public:
  SectionError(std::string section, const std::string& message, bool out_of_memory = false)
      : PluginError(message), section_(std::move(section)), out_of_memory_(out_of_memory) {}
  const std::string& section() const { return section_; }
  /// The plugin asked for more memory than the process may have.
  bool out_of_memory() const { return out_of_memory_; }

 private:
  std::string section_;
  bool out_of_memory_;
};

/// Builds a trial's plugins and checks that they fit: G makes samples of the data's shape and
/// D maps one to one logit. Throws SectionError naming the section at fault.
TrialModels build_trial_models(const TrialConfig& trial);

/// The architecture lines a trial's checkpoints start with: the data's plugin, sample shape and
/// classes, G's and D's plugins and parameters. A checkpoint fits a trial only if they are equal.
std::vector<std::string> checkpoint_architecture(const TrialConfig& trial, const TrialModels& models);
/// A network's parameters and buffers as a checkpoint names them, `prefix` "g" or "d":
/// "g.param.3.NAME", "g.buffer.0".
std::vector<std::pair<std::string, Tensor*>> network_tensors(const std::string& prefix, Layer& net);

/// Runs one trial: builds the plugins, then per step n_critic D updates and one G update, logging
/// the losses every log_every steps and evaluating the metrics at step 0, every eval_every steps
/// and at the end. Plugin errors propagate as exceptions (the caller records the trial as failed).
class Trainer {
 public:
  /// The trial stops, as interrupted, at the next step once `*stop` is non-zero.
  Trainer(const TrialConfig& trial, EventSink& sink, const std::atomic<int>* stop = nullptr);
  TrialResult run();
  /// What a trial's memory was measured to be in a rehearsal.
  struct Cost {
    uint64_t build_bytes = 0;       ///< the models as built
    uint64_t train_bytes = 0;       ///< the models, their optimizers and one step's buffers
    uint64_t eval_sample_bytes = 0;  ///< per evaluation sample: G's activations and the sample
    int64_t batch = 0;               ///< the batch size the step was taken at
  };
  /// Builds the trial and takes one training step, evaluating nothing and reporting nothing: what
  /// goes wrong then would go wrong in every run of this config. The step is at the trial's batch
  /// size, or at most `max_batch` (> 0) rounded up to a multiple of D's pack.
  Cost rehearse(int64_t max_batch = 0);
  /// Called at every evaluation with G's samples on the fixed evaluation z (e.g. to draw them).
  void on_evaluation(std::function<void(int64_t step, const Tensor& generated)> observer) {
    observer_ = std::move(observer);
  }
  /// Called after each step's G update, before any evaluation (e.g. to time steps).
  void on_step(std::function<void(int64_t step)> observer) { step_observer_ = std::move(observer); }
  /// Where run() saves checkpoints and which it resumes from (default: none and none).
  void checkpoints(CheckpointPlan plan) { plan_ = std::move(plan); }

 private:
  CheckpointPlan plan_;
  std::function<void(int64_t)> step_observer_;
  std::function<void(int64_t, const Tensor&)> observer_;
  const TrialConfig& trial_;
  EventSink& sink_;
  const std::atomic<int>* stop_;
};

/// The learning rate of step `step` (1…steps) under [optimizer] lr_decay: "none" keeps `lr`;
/// "linear" gives lr·(steps − step + 1)/steps, the full rate at step 1 and lr/steps at the last.
double scheduled_lr(double lr, const std::string& decay, int64_t step, int64_t steps);

/// Makes a plugin object of interface T from a resolved section; PluginError if the plugin made
/// something else.
template <class T>
std::unique_ptr<T> instantiate(const PluginChoice& choice, const BuildContext& ctx);

}  // namespace gantry
