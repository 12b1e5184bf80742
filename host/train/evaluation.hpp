#pragma once
// One evaluation of a trial's G: its samples on the fixed evaluation z, the metrics on them and
// (for the G a run reports) its pictures. Shared by the training loop and by `gantry evaluate`,
// which scores stored checkpoints later: the same z, labels, stream and keys, so a metric run
// after the fact gives the values the trainer would have recorded.
#include "config/experiment.hpp"
#include "train/ema.hpp"
#include "train/events.hpp"
#include "train/trainer.hpp"

#include <functional>
#include <string>
#include <vector>

namespace gantry {

class Evaluator {
 public:
  using Observer = std::function<void(int64_t step, const Tensor& generated)>;
  /// `pictures`: whether the reported G's sample pictures go to the sink as artifacts.
  Evaluator(const TrialConfig& trial, TrialModels& models, EventSink& sink, bool pictures = true);
  /// Measures the current G at `step`. With an EMA the metrics are the average's, and G's own are
  /// recorded under "raw."; each measurement draws from its own copy of the step's stream.
  void evaluate(int64_t step, GeneratorEma* ema, const Observer& observer);

 private:
  void measure(int64_t step, const std::string& prefix, const Observer* observer);
  const TrialConfig& trial_;
  TrialModels& m_;
  EventSink& sink_;
  bool pictures_;
  int64_t grid_side_;
  std::vector<std::vector<MetricKey>> metric_keys_;
  Tensor eval_z_, generated_;
  std::vector<int32_t> eval_labels_;
};

/// The seed of step `step`'s evaluation stream (each measurement draws from its own copy).
uint64_t evaluation_seed(uint64_t trial_seed, int64_t step);
/// The trial's fixed evaluation z, [eval_samples, latent_dim].
Tensor evaluation_z(const TrialConfig& trial, int64_t latent_dim);

}  // namespace gantry
