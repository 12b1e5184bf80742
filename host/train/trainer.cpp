#include "train/trainer.hpp"

#include "plot/plot.hpp"

#include <gantry/data.hpp>
#include <gantry/error.hpp>
#include <gantry/loss.hpp>
#include <gantry/metric.hpp>
#include <gantry/model.hpp>
#include <gantry/optimizer.hpp>
#include <gantry/penalty.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace gantry {

template <class T>
std::unique_ptr<T> instantiate(const PluginChoice& choice, const BuildContext& ctx) {
  std::unique_ptr<Plugin> made;
  try {
    made = choice.library->descriptor->factory(choice.params, ctx);
  } catch (const std::exception& e) {
    throw PluginError(fmt::format("{} plugin '{}': {}", to_string(choice.library->kind()), choice.plugin(), e.what()));
  }
  T* typed = dynamic_cast<T*>(made.get());
  if (typed == nullptr)
    throw PluginError(fmt::format("{} plugin '{}' made an object of the wrong interface",
                                  to_string(choice.library->kind()), choice.plugin()));
  made.release();
  return std::unique_ptr<T>(typed);
}

template std::unique_ptr<DataSource> instantiate(const PluginChoice&, const BuildContext&);
template std::unique_ptr<Generator> instantiate(const PluginChoice&, const BuildContext&);
template std::unique_ptr<Discriminator> instantiate(const PluginChoice&, const BuildContext&);
template std::unique_ptr<Loss> instantiate(const PluginChoice&, const BuildContext&);
template std::unique_ptr<Metric> instantiate(const PluginChoice&, const BuildContext&);

namespace {

std::vector<int64_t> batch_shape(int64_t n, const std::vector<int64_t>& sample_shape) {
  std::vector<int64_t> s{n};
  s.insert(s.end(), sample_shape.begin(), sample_shape.end());
  return s;
}

}  // namespace

Trainer::Trainer(const TrialConfig& trial, EventSink& sink, const std::atomic<int>* stop)
    : trial_(trial), sink_(sink), stop_(stop) {}

TrialResult Trainer::run() {
  const Params& tp = trial_.train;
  const int64_t steps = tp.integer("steps"), batch = tp.integer("batch_size");
  const double r1_gamma = tp.real("r1_gamma");
  const int64_t log_every = tp.integer("log_every"), eval_every = tp.integer("eval_every");
  const int64_t eval_n = tp.integer("eval_samples"), grid_side = tp.integer("sample_grid");
  const uint64_t seed = trial_.seed;

  BuildContext ctx{{}, seed};
  auto data = instantiate<DataSource>(trial_.data, ctx);
  ctx.sample_shape = data->sample_shape();
  auto gen = instantiate<Generator>(trial_.generator, ctx);
  auto disc = instantiate<Discriminator>(trial_.discriminator, ctx);
  auto loss = instantiate<Loss>(trial_.loss, ctx);
  const int64_t n_critic = tp.integer("n_critic") > 0 ? tp.integer("n_critic") : loss->default_n_critic();
  std::vector<std::unique_ptr<Metric>> metrics;
  std::vector<std::vector<MetricKey>> metric_keys;
  for (const PluginChoice& m : trial_.metrics) {
    metrics.push_back(instantiate<Metric>(m, ctx));
    metric_keys.push_back(m.library->descriptor->metric_keys);
  }

  Layer& g = gen->layer();
  Layer& d = disc->layer();
  const AdamOptions adam{trial_.optimizer.real("lr"), trial_.optimizer.real("beta1"),
                         trial_.optimizer.real("beta2"), trial_.optimizer.real("eps")};
  Adam g_opt(g.parameters(), adam), d_opt(d.parameters(), adam);
  const std::vector<Parameter*> d_params = d.parameters();

  // Independent streams, so changing one consumer (e.g. eval size) leaves the others' draws alone.
  Rng data_rng(derive_seed(seed, "data")), latent_rng(derive_seed(seed, "latent"));
  const int64_t latent = gen->latent_dim();

  // Every buffer of the loop, allocated once. D sees real and fake as one batch of 2B rows, which
  // needs one forward and one backward per critic step and no gradient accumulation — unless D
  // normalises over its batch (BatchNorm): then real and fake go through as separate batches.
  const bool separate_batches = d.couples_batch();
  Tensor split_logits({2 * batch, 1}), d_grad_part({batch, 1});
  Tensor z({batch, latent}), both(batch_shape(2 * batch, ctx.sample_shape));
  Tensor real(batch_shape(batch, ctx.sample_shape));
  Tensor d_grad({2 * batch, 1}), g_grad({batch, 1});
  Rng penalty_rng(derive_seed(seed, "penalty"));
  Critic critic(d);
  Tensor fake_batch(batch_shape(batch, ctx.sample_shape));
  PenaltyContext penalty_ctx{critic, real, fake_batch, penalty_rng};
  Tensor eval_z({eval_n, latent}), generated;
  Rng(derive_seed(seed, "eval.z")).fill_normal(eval_z.values());

  auto evaluate = [&](int64_t step) {
    generated = g.forward(eval_z, Mode::eval);  // copied: metrics may run G again
    Rng eval_rng(derive_seed(seed ^ static_cast<uint64_t>(step), "eval"));
    if (observer_) observer_(step, generated);
    // 2D data: a picture of the evaluation sample over the real modes, kept with the run.
    if (ctx.sample_shape == std::vector<int64_t>{2})
      sink_.artifact(step, "samples", "image/png", scatter_png(generated, data->modes()));
    else if (grid_side > 0 && ctx.sample_shape.size() == 3)
      sink_.artifact(step, "samples", "image/png", image_grid_png(generated, static_cast<int>(grid_side)));
    EvalContext ectx{*data, *gen, *disc, generated, eval_rng, step};
    for (size_t i = 0; i < metrics.size(); ++i) {
      const std::vector<double> values = metrics[i]->evaluate(ectx);
      const auto& keys = metric_keys[i];
      if (values.size() != keys.size())
        throw PluginError(fmt::format("metric '{}' returned {} values for {} keys", trial_.metrics[i].plugin(),
                                      values.size(), keys.size()));
      for (size_t k = 0; k < keys.size(); ++k)
        sink_.metric(step, fmt::format("{}.{}", trial_.metrics[i].plugin(), keys[k].name), values[k]);
    }
    sink_.flush();
  };

  evaluate(0);
  for (size_t i = 0; i < metrics.size(); ++i)
    for (const auto& [key, value] : metrics[i]->notes())
      sink_.note(fmt::format("{}.{}", trial_.metrics[i].plugin(), key), value);
  sink_.flush();
  double d_loss = 0, g_loss = 0, penalty = 0;
  TrialResult result;
  auto finish = [&result](TrialOutcome outcome, int64_t step, std::string message) {
    result.outcome = outcome;
    result.step = step;
    result.message = std::move(message);
    return result;
  };
  for (int64_t step = 1; step <= steps; ++step) {
    if (stop_ != nullptr && stop_->load(std::memory_order_relaxed) > 0)
      return finish(TrialOutcome::interrupted, step - 1, "interrupted");

    for (int64_t c = 0; c < n_critic; ++c) {
      data->sample(data_rng, real);
      latent_rng.fill_normal(z.values());
      // G(z) is kept for this critic step: D's separate fake batch and the penalties read it.
      fake_batch.copy_rows_from(g.forward(z, Mode::train), 0);
      const Tensor* logits = &split_logits;
      if (separate_batches) {
        split_logits.copy_rows_from(d.forward(real, Mode::train), 0);
        split_logits.copy_rows_from(d.forward(fake_batch, Mode::train), batch);
      } else {
        both.copy_rows_from(real, 0);
        both.copy_rows_from(fake_batch, batch);
        logits = &d.forward(both, Mode::train);
      }
      const auto l = logits->values();
      auto dg = d_grad.values();
      d_loss = loss->discriminator_loss(l.first(batch), l.subspan(batch), dg.first(batch), dg.subspan(batch));
      if (!std::isfinite(d_loss)) {
        sink_.metric(step, "loss.d", d_loss);
        sink_.flush();
        return finish(TrialOutcome::diverged, step, fmt::format("non-finite discriminator loss at step {}", step));
      }
      d_opt.zero_grad();
      if (separate_batches) {
        // The fake batch went through last, so its backward comes first; the real batch goes
        // through again (one more forward) for its own backward.
        std::copy_n(d_grad.data() + batch, batch, d_grad_part.data());
        d.backward(d_grad_part, {.input_grad = false, .weight_grad = true});
        d.forward(real, Mode::train);
        std::copy_n(d_grad.data(), batch, d_grad_part.data());
        d.backward(d_grad_part, {.input_grad = false, .weight_grad = true});
      } else {
        d.backward(d_grad, {.input_grad = false, .weight_grad = true});
      }
      // Penalties run their own passes through D and add their gradients to the loss's.
      penalty = 0;
      if (r1_gamma > 0) penalty += r1_penalty(critic, real, r1_gamma);
      penalty += loss->discriminator_penalty(penalty_ctx);
      d_loss += penalty;
      if (!std::isfinite(d_loss)) {
        sink_.metric(step, "loss.d", d_loss);
        sink_.flush();
        return finish(TrialOutcome::diverged, step, fmt::format("non-finite discriminator penalty at step {}", step));
      }
      d_opt.step();
      ++result.d_updates;
      loss->after_discriminator_step(d_params);
    }

    // G step: D is only differentiated with respect to its input; its weights are left alone.
    latent_rng.fill_normal(z.values());
    const Tensor& fake = g.forward(z, Mode::train);
    const Tensor& logits = d.forward(fake, Mode::train);
    g_loss = loss->generator_loss(logits.values(), g_grad.values());
    if (!std::isfinite(g_loss)) {
      sink_.metric(step, "loss.g", g_loss);
      sink_.flush();
      return finish(TrialOutcome::diverged, step, fmt::format("non-finite generator loss at step {}", step));
    }
    const Tensor& dx = d.backward(g_grad, {.input_grad = true, .weight_grad = false});
    g_opt.zero_grad();
    g.backward(dx, {.input_grad = false, .weight_grad = true});
    g_opt.step();
    ++result.g_updates;
    if (step_observer_) step_observer_(step);

    if (step % log_every == 0 || step == steps) {
      sink_.metric(step, "loss.d", d_loss);
      sink_.metric(step, "loss.g", g_loss);
      if (penalty != 0) sink_.metric(step, "loss.penalty", penalty);
      sink_.progress(step, steps, d_loss, g_loss);
    }
    if (step % eval_every == 0 || step == steps) evaluate(step);
  }
  sink_.flush();
  return finish(TrialOutcome::completed, steps, "");
}

}  // namespace gantry
