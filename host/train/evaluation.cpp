#include "train/evaluation.hpp"

#include "plot/plot.hpp"

#include <gantry/conditional.hpp>
#include <gantry/error.hpp>

#include <fmt/format.h>

namespace gantry {

uint64_t evaluation_seed(uint64_t trial_seed, int64_t step) {
  return derive_seed(trial_seed ^ static_cast<uint64_t>(step), "eval");
}

Tensor evaluation_z(const TrialConfig& trial, int64_t latent_dim) {
  Tensor z({trial.train.integer("eval_samples"), latent_dim});
  Rng(derive_seed(trial.seed, "eval.z")).fill_normal(z.values());
  return z;
}

Evaluator::Evaluator(const TrialConfig& trial, TrialModels& models, EventSink& sink, bool pictures)
    : trial_(trial), m_(models), sink_(sink), pictures_(pictures), grid_side_(trial.train.integer("sample_grid")) {
  for (const PluginChoice& c : trial.metrics) metric_keys_.push_back(c.library->descriptor->metric_keys);
}

void Evaluator::evaluate(int64_t step, GeneratorEma* ema, const Observer& observer) {
  if (eval_z_.size() == 0) {
    eval_z_ = evaluation_z(trial_, m_.generator->latent_dim());
    if (m_.num_classes > 0) eval_labels_ = cyclic_labels(eval_z_.dim(0), m_.num_classes);
  }
  if (ema != nullptr) {
    measure(step, "raw.", nullptr);
    GeneratorEma::Swap swap(*ema);
    measure(step, "", &observer);
  } else {
    measure(step, "", &observer);
  }
  sink_.flush();
}

// The metrics under `prefix`; samples and pictures (and the observer) only for the G the run
// reports (`observer` given).
void Evaluator::measure(int64_t step, const std::string& prefix, const Observer* observer) {
  if (LabelSlot* labels = m_.generator->label_slot(); labels != nullptr) labels->set(eval_labels_);
  generated_ = m_.generator->layer().forward(eval_z_, Mode::eval);  // copied: metrics may run G again
  Rng eval_rng(evaluation_seed(trial_.seed, step));
  if (observer != nullptr && *observer) (*observer)(step, generated_);
  if (observer != nullptr && pictures_) {
    // 2D data: a picture of the evaluation sample over the real modes, kept with the run.
    if (m_.sample_shape == std::vector<int64_t>{2})
      sink_.artifact(step, "samples", "image/png", scatter_png(generated_, m_.data->modes()));
    else if (grid_side_ > 0 && m_.sample_shape.size() == 3 && m_.num_classes > 0)
      sink_.artifact(step, "samples", "image/png",
                     class_grid_png(generated_, eval_labels_, static_cast<int>(m_.num_classes), static_cast<int>(grid_side_)));
    else if (grid_side_ > 0 && m_.sample_shape.size() == 3)
      sink_.artifact(step, "samples", "image/png", image_grid_png(generated_, static_cast<int>(grid_side_)));
  }
  EvalContext ectx{*m_.data, *m_.generator, *m_.discriminator, generated_, eval_rng, step, eval_labels_};
  // Metrics may draw real samples (disc_accuracy, pixel_quality). The data's position goes back
  // after them, so that measuring never changes the batches the trial trains on.
  const std::string data_state = m_.data->state();
  for (size_t i = 0; i < m_.metrics.size(); ++i) {
    const std::vector<double> values = m_.metrics[i]->evaluate(ectx);
    const auto& keys = metric_keys_[i];
    if (values.size() != keys.size())
      throw PluginError(fmt::format("metric '{}' returned {} values for {} keys", trial_.metrics[i].plugin(),
                                    values.size(), keys.size()));
    for (size_t k = 0; k < keys.size(); ++k)
      if (!keys[k].conditional_only || m_.num_classes > 0)
        sink_.metric(step, fmt::format("{}{}.{}", prefix, trial_.metrics[i].plugin(), keys[k].name), values[k]);
  }
  m_.data->set_state(data_state);
}

}  // namespace gantry
