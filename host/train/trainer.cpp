#include "train/trainer.hpp"

#include "train/ema.hpp"
#include "train/evaluation.hpp"

#include <gantry/conditional.hpp>
#include <gantry/error.hpp>
#include <gantry/optimizer.hpp>
#include <gantry/penalty.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <malloc.h>
#include <tuple>

namespace gantry {

template <class T>
std::unique_ptr<T> instantiate(const PluginChoice& choice, const BuildContext& ctx) {
  std::unique_ptr<Plugin> made;
  try {
    made = choice.library->descriptor->factory(choice.params, ctx);
  } catch (const std::bad_alloc&) {
    throw SectionError(choice.section, fmt::format("{} plugin '{}': out of memory while being built",
                                                   to_string(choice.library->kind()), choice.plugin()),
                       true);
  } catch (const std::exception& e) {
    throw SectionError(choice.section,
                       fmt::format("{} plugin '{}': {}", to_string(choice.library->kind()), choice.plugin(), e.what()));
  }
  T* typed = dynamic_cast<T*>(made.get());
  if (typed == nullptr)
    throw SectionError(choice.section, fmt::format("{} plugin '{}' made an object of the wrong interface",
                                                   to_string(choice.library->kind()), choice.plugin()));
  made.release();
  return std::unique_ptr<T>(typed);
}

template std::unique_ptr<DataSource> instantiate(const PluginChoice&, const BuildContext&);
template std::unique_ptr<Generator> instantiate(const PluginChoice&, const BuildContext&);
template std::unique_ptr<Discriminator> instantiate(const PluginChoice&, const BuildContext&);
template std::unique_ptr<Loss> instantiate(const PluginChoice&, const BuildContext&);
template std::unique_ptr<Metric> instantiate(const PluginChoice&, const BuildContext&);

double scheduled_lr(double lr, const std::string& decay, int64_t step, int64_t steps) {
  GANTRY_ASSERT(step >= 1 && step <= steps);
  if (decay == "none") return lr;
  GANTRY_ASSERT(decay == "linear");  // the schema's choices
  return lr * static_cast<double>(steps - step + 1) / static_cast<double>(steps);
}

namespace {

std::vector<int64_t> batch_shape(int64_t n, const std::vector<int64_t>& sample_shape) {
  std::vector<int64_t> s{n};
  s.insert(s.end(), sample_shape.begin(), sample_shape.end());
  return s;
}

std::string shape_text(const std::vector<int64_t>& shape, size_t from) {
  return fmt::format("[{}]", fmt::join(shape.begin() + static_cast<std::ptrdiff_t>(std::min(from, shape.size())),
                                       shape.end(), ", "));
}

// One sample through G and D in evaluation mode (no running statistics move, no randomness is
// drawn): a G that makes the wrong shape is named here rather than deep inside a layer later.
void check_shapes(const TrialConfig& trial, TrialModels& m) {
  const int64_t pack = m.discriminator->pack();
  Tensor z({pack, m.generator->latent_dim()});
  // A conditional D packs nothing (its plugin refuses pack > 1), so one label covers the input.
  const int32_t label = 0;
  if (m.num_classes > 0) m.generator->label_slot()->set({&label, 1}), m.discriminator->label_slot()->set({&label, 1});
  const Tensor* sample = nullptr;
  try {
    sample = &m.generator->layer().forward(z, Mode::eval);
  } catch (const std::exception& e) {
    throw SectionError(trial.generator.section, fmt::format("generator '{}' failed on one latent vector: {}",
                                                            trial.generator.plugin(), e.what()));
  }
  if (std::vector<int64_t>(sample->shape().begin() + 1, sample->shape().end()) != m.sample_shape)
    throw SectionError(trial.generator.section,
                       fmt::format("generator '{}' makes samples of shape {}, but data '{}' has samples of shape {}",
                                   trial.generator.plugin(), shape_text(sample->shape(), 1), trial.data.plugin(),
                                   shape_text(m.sample_shape, 0)));
  const Tensor* logits = nullptr;
  try {
    logits = &m.discriminator->layer().forward(*sample, Mode::eval);
  } catch (const std::exception& e) {
    throw SectionError(trial.discriminator.section,
                       fmt::format("discriminator '{}' failed on {} of shape {}: {}", trial.discriminator.plugin(),
                                   pack == 1 ? std::string("one sample") : fmt::format("{} packed samples", pack),
                                   shape_text(m.sample_shape, 0), e.what()));
  }
  if (logits->shape() != std::vector<int64_t>{1, 1})
    throw SectionError(trial.discriminator.section,
                       fmt::format("discriminator '{}' maps {} to shape {}; it must give one logit",
                                   trial.discriminator.plugin(),
                                   pack == 1 ? std::string("one sample") : fmt::format("{} packed samples", pack),
                                   shape_text(logits->shape(), 0)));
}

// PacGAN: real and fake batches are packed apart, so each must split into whole packed inputs.
// Found at build time, so preflight names it in the file before anything runs.
void check_pack(const TrialConfig& trial, const Discriminator& d) {
  const int64_t pack = d.pack(), batch = trial.train.integer("batch_size");
  if (pack < 1)
    throw SectionError(trial.discriminator.section,
                       fmt::format("discriminator '{}' reports pack {}; it must be at least 1", trial.discriminator.plugin(), pack));
  if (batch % pack != 0)
    throw SectionError("train.batch_size",
                       fmt::format("batch_size {} is not a multiple of the discriminator's pack {}: D reads {} samples "
                                   "as one input, and real and fake batches are packed apart",
                                   batch, pack, pack));
}

// A network must condition on exactly the trial's classes: a plugin that ignores
// BuildContext::num_classes would otherwise train unconditionally without a word.
void check_conditioning(const PluginChoice& choice, Model& model, int64_t num_classes) {
  const std::string kind = to_string(choice.library->kind());
  const LabelSlot* slot = model.label_slot();
  if (num_classes > 0 && slot == nullptr)
    throw SectionError(choice.section, fmt::format("{} '{}' cannot condition on class labels, which [train] "
                                                   "conditional = true needs",
                                                   kind, choice.plugin()));
  if (num_classes == 0 && slot != nullptr)
    throw SectionError(choice.section, fmt::format("{} '{}' is class-conditional, but [train] conditional is false",
                                                   kind, choice.plugin()));
  if (slot != nullptr && slot->classes() != num_classes)
    throw SectionError(choice.section, fmt::format("{} '{}' conditions on {} classes, but the data has {}", kind,
                                                   choice.plugin(), slot->classes(), num_classes));
}

}  // namespace

// The reference classifier is trained on Fashion-MNIST: on other images its features measure the
// wrong domain while looking like valid numbers, so a metric needing it is refused there.
void check_feature_domain(const TrialConfig& trial) {
  for (const PluginChoice& c : trial.metrics) {
    const auto& needs = c.library->descriptor->needs;
    if (trial.data.plugin() == "fashion_mnist" ||
        std::find(needs.begin(), needs.end(), "reference_classifier") == needs.end())
      continue;
    throw SectionError(c.section,
                       fmt::format("metric '{}' measures in the features of gantry's reference classifier, which is "
                                   "trained on Fashion-MNIST; data '{}' is not Fashion-MNIST and no reference classifier "
                                   "exists for it, so these features would describe the wrong domain (use data "
                                   "'fashion_mnist', or drop this metric)",
                                   c.plugin(), trial.data.plugin()));
  }
}

TrialModels build_trial_models(const TrialConfig& trial) {
  check_feature_domain(trial);
  TrialModels m;
  BuildContext ctx{{}, trial.seed};
  m.data = instantiate<DataSource>(trial.data, ctx);
  m.sample_shape = ctx.sample_shape = m.data->sample_shape();
  if (trial.train.boolean("conditional")) {
    m.num_classes = ctx.num_classes = m.data->num_classes();
    if (m.num_classes <= 0)
      throw SectionError("train.conditional", fmt::format("conditional = true needs labelled data, but data '{}' "
                                                          "(with these parameters) has no class labels",
                                                          trial.data.plugin()));
  }
  m.generator = instantiate<Generator>(trial.generator, ctx);
  check_conditioning(trial.generator, *m.generator, m.num_classes);
  m.discriminator = instantiate<Discriminator>(trial.discriminator, ctx);
  check_conditioning(trial.discriminator, *m.discriminator, m.num_classes);
  check_pack(trial, *m.discriminator);
  m.loss = instantiate<Loss>(trial.loss, ctx);
  const int64_t n_critic = trial.train.integer("n_critic");
  m.n_critic = n_critic > 0 ? n_critic : m.loss->default_n_critic();
  for (const PluginChoice& c : trial.metrics) m.metrics.push_back(instantiate<Metric>(c, ctx));
  check_shapes(trial, m);
  return m;
}

std::vector<std::string> checkpoint_architecture(const TrialConfig& trial, const TrialModels& m) {
  std::vector<std::string> lines{
      fmt::format("data {} sample {} classes {}", trial.data.plugin(), shape_string(m.sample_shape), m.num_classes)};
  for (const PluginChoice* c : {&trial.generator, &trial.discriminator}) {
    lines.push_back(fmt::format("{} {}", c->section, c->plugin()));
    for (const auto& [key, value] : c->params.all()) lines.push_back(fmt::format("  {} = {}", key, to_string(value)));
  }
  return lines;
}

std::vector<std::pair<std::string, Tensor*>> network_tensors(const std::string& prefix, Layer& net) {
  std::vector<std::pair<std::string, Tensor*>> out;
  const auto params = net.parameters();
  for (size_t i = 0; i < params.size(); ++i)
    out.emplace_back(fmt::format("{}.param.{}.{}", prefix, i, params[i]->name), &params[i]->value);
  const auto buffers = net.buffers();
  for (size_t i = 0; i < buffers.size(); ++i) out.emplace_back(fmt::format("{}.buffer.{}", prefix, i), buffers[i]);
  return out;
}

namespace {

// The training loop of one trial: every buffer allocated once, then per step n_critic D updates
// and one G update. `rehearsal` takes one step with no evaluation and no reporting.
class TrainingLoop {
 public:
  TrainingLoop(const TrialConfig& trial, TrialModels& m, EventSink& sink, const std::atomic<int>* stop,
               CheckpointPlan plan = {});
  TrialResult run(const std::function<void(int64_t)>& step_observer,
                  const std::function<void(int64_t, const Tensor&)>& eval_observer);
  void rehearse() { schedule_learning_rates(1), (void)critic_steps(1), generator_step(); }

 private:
  void schedule_learning_rates(int64_t step);
  std::optional<std::string> critic_steps(int64_t step);
  double critic_loss_and_gradient();
  bool generator_step();
  void evaluate(int64_t step, const Evaluator::Observer& observer) { evaluator_.evaluate(step, ema_.get(), observer); }
  void log(int64_t step);
  TrainingState state();
  int64_t resume();
  void save_checkpoint(int64_t step) { checkpointer_.save(step, state()); }
  void label_d(const std::vector<int32_t>& labels) {
    if (d_labels_ != nullptr) d_labels_->set(labels);
  }
  // Fresh uniform labels for the fake batch, given to G (D gets them where it sees the batch).
  void draw_fake_labels() {
    if (g_labels_ == nullptr) return;
    draw_labels(label_rng_, m_.num_classes, fake_labels_);
    g_labels_->set(fake_labels_);
  }
  void sample_real(Rng& rng, Tensor& out, std::vector<int32_t>& labels) {
    if (m_.num_classes > 0) m_.data->sample_labelled(rng, out, labels);
    else m_.data->sample(rng, out);
  }
  TrialResult finish(TrialOutcome outcome, int64_t step, std::string message);

  const TrialConfig& trial_;
  TrialModels& m_;
  EventSink& sink_;
  const std::atomic<int>* stop_;
  Layer &g_, &d_;
  const int64_t steps_, batch_, log_every_, eval_every_;
  const double r1_gamma_;
  // PacGAN: D reads pack_ samples as one input, so a batch of batch_ samples gives inputs_ logits.
  const int64_t pack_, inputs_;
  Adam g_opt_, d_opt_;
  const std::string decay_;
  const std::vector<Parameter*> d_params_;
  // Independent streams, so changing one consumer (e.g. eval size) leaves the others' draws alone;
  // the G step's real batch has its own, so losses that do not read it draw exactly as before.
  Rng data_rng_, latent_rng_, penalty_rng_, g_real_rng_;
  // D sees real and fake as one batch of 2B rows, which needs one forward and one backward per
  // critic step and no gradient accumulation — unless D normalises over its batch (BatchNorm):
  // then real and fake go through as separate batches.
  const bool separate_batches_;
  // Relativistic losses compare G's fake logits with D's logits on a real batch of the G step.
  const bool g_uses_real_;
  Tensor g_real_, g_real_logits_;
  Tensor split_logits_, d_grad_part_, z_, both_, real_, d_grad_, g_grad_, fake_batch_;
  Critic critic_;
  PenaltyContext penalty_ctx_;
  // Class-conditional trials: the networks' label slots (else nullptr) and each batch's labels.
  // Fake labels come from their own stream, so an unconditional trial draws exactly as before.
  LabelSlot *g_labels_, *d_labels_;
  Rng label_rng_;
  std::vector<int32_t> real_labels_, fake_labels_, both_labels_, g_real_labels_;
  double d_loss_ = 0, g_loss_ = 0, penalty_ = 0;
  TrialResult result_;
  std::unique_ptr<GeneratorEma> ema_;  // [train] g_ema > 0 only
  Checkpointer checkpointer_;
  Evaluator evaluator_;
};

AdamOptions adam_options(const Params& p) {
  return {p.real("lr"), p.real("beta1"), p.real("beta2"), p.real("eps")};
}

TrainingLoop::TrainingLoop(const TrialConfig& trial, TrialModels& m, EventSink& sink, const std::atomic<int>* stop,
                           CheckpointPlan plan)
    : trial_(trial), m_(m), sink_(sink), stop_(stop), g_(m.generator->layer()), d_(m.discriminator->layer()),
      steps_(trial.train.integer("steps")), batch_(trial.train.integer("batch_size")),
      log_every_(trial.train.integer("log_every")), eval_every_(trial.train.integer("eval_every")),
      r1_gamma_(trial.train.real("r1_gamma")),
      pack_(m.discriminator->pack()), inputs_(batch_ / pack_),
      g_opt_(g_.parameters(), adam_options(trial.generator_optimizer.params)),
      d_opt_(d_.parameters(), adam_options(trial.discriminator_optimizer.params)),
      decay_(trial.optimizer.string("lr_decay")),
      d_params_(d_.parameters()), data_rng_(derive_seed(trial.seed, "data")),
      latent_rng_(derive_seed(trial.seed, "latent")), penalty_rng_(derive_seed(trial.seed, "penalty")),
      g_real_rng_(derive_seed(trial.seed, "g.real")), separate_batches_(d_.couples_batch()),
      g_uses_real_(m.loss->uses_real_logits_in_generator_step()),
      g_real_(g_uses_real_ ? Tensor(batch_shape(batch_, m.sample_shape)) : Tensor()),
      g_real_logits_(g_uses_real_ ? Tensor({inputs_, 1}) : Tensor()), split_logits_({2 * inputs_, 1}),
      d_grad_part_({inputs_, 1}), z_({batch_, m.generator->latent_dim()}), both_(batch_shape(2 * batch_, m.sample_shape)),
      real_(batch_shape(batch_, m.sample_shape)), d_grad_({2 * inputs_, 1}), g_grad_({inputs_, 1}),
      fake_batch_(batch_shape(batch_, m.sample_shape)), critic_(d_, pack_),
      penalty_ctx_{critic_, real_, fake_batch_, penalty_rng_}, g_labels_(m.generator->label_slot()),
      d_labels_(m.discriminator->label_slot()), label_rng_(derive_seed(trial.seed, "labels")),
      checkpointer_(std::move(plan), sink, trial.train.integer("checkpoint_every"), steps_),
      evaluator_(trial, m, sink) {
  if (m.num_classes > 0) {
    for (auto* labels : {&real_labels_, &fake_labels_, &g_real_labels_}) labels->resize(static_cast<size_t>(batch_));
    both_labels_.resize(static_cast<size_t>(2 * batch_));
  }
  if (const double decay = trial.train.real("g_ema"); decay > 0)
    ema_ = std::make_unique<GeneratorEma>(g_, decay, trial.train.integer("g_ema_start"));
}

// D's loss on this critic step's real and fake batches, with dL/dparams accumulated into D.
double TrainingLoop::critic_loss_and_gradient() {
  sample_real(data_rng_, real_, real_labels_);
  latent_rng_.fill_normal(z_.values());
  draw_fake_labels();
  // G(z) is kept for this critic step: D's separate fake batch and the penalties read it.
  fake_batch_.copy_rows_from(g_.forward(z_, Mode::train), 0);
  const Tensor* logits = &split_logits_;
  if (separate_batches_) {
    label_d(real_labels_);
    split_logits_.copy_rows_from(d_.forward(real_, Mode::train), 0);
    label_d(fake_labels_);
    split_logits_.copy_rows_from(d_.forward(fake_batch_, Mode::train), inputs_);
  } else {
    if (d_labels_ != nullptr) {
      std::copy(real_labels_.begin(), real_labels_.end(), both_labels_.begin());
      std::copy(fake_labels_.begin(), fake_labels_.end(), both_labels_.begin() + batch_);
      label_d(both_labels_);
    }
    both_.copy_rows_from(real_, 0);
    both_.copy_rows_from(fake_batch_, batch_);
    logits = &d_.forward(both_, Mode::train);
  }
  const auto l = logits->values();
  auto dg = d_grad_.values();
  // The first inputs_ logits are the real batch's: batch_ is a multiple of pack_, so no packed
  // input mixes real and fake samples.
  const double loss =
      m_.loss->discriminator_loss(l.first(inputs_), l.subspan(inputs_), dg.first(inputs_), dg.subspan(inputs_));
  if (!std::isfinite(loss)) return loss;
  d_opt_.zero_grad();
  if (separate_batches_) {
    // The fake batch went through last, so its backward comes first; the real batch goes
    // through again (one more forward) for its own backward.
    std::copy_n(d_grad_.data() + inputs_, inputs_, d_grad_part_.data());
    d_.backward(d_grad_part_, {.input_grad = false, .weight_grad = true});
    label_d(real_labels_);
    d_.forward(real_, Mode::train);
    std::copy_n(d_grad_.data(), inputs_, d_grad_part_.data());
    d_.backward(d_grad_part_, {.input_grad = false, .weight_grad = true});
  } else {
    d_.backward(d_grad_, {.input_grad = false, .weight_grad = true});
  }
  return loss;
}

// A step's n_critic D updates and its G update share the step's rate (by G steps, as SNGAN's and
// BigGAN's code decay it).
void TrainingLoop::schedule_learning_rates(int64_t step) {
  if (decay_ == "none") return;
  g_opt_.set_lr(scheduled_lr(trial_.generator_optimizer.params.real("lr"), decay_, step, steps_));
  d_opt_.set_lr(scheduled_lr(trial_.discriminator_optimizer.params.real("lr"), decay_, step, steps_));
}

// n_critic D updates; the reason when a loss or penalty stops being finite.
std::optional<std::string> TrainingLoop::critic_steps(int64_t step) {
  for (int64_t c = 0; c < m_.n_critic; ++c) {
    d_loss_ = critic_loss_and_gradient();
    if (!std::isfinite(d_loss_)) return fmt::format("non-finite discriminator loss at step {}", step);
    // Penalties run their own passes through D and add their gradients to the loss's. A
    // conditional critic scores every penalty input under the real batch's labels: an interpolate
    // takes the label of its real end, as in StudioGAN's WGAN-GP.
    penalty_ = 0;
    label_d(real_labels_);
    try {
      if (r1_gamma_ > 0) penalty_ += r1_penalty(critic_, real_, r1_gamma_);
    } catch (const std::exception& e) {
      throw SectionError("train.r1_gamma", fmt::format("the R1 penalty failed: {}", e.what()));
    }
    try {
      penalty_ += m_.loss->discriminator_penalty(penalty_ctx_);
    } catch (const std::exception& e) {
      throw SectionError(trial_.loss.section, fmt::format("loss '{}': its penalty failed: {}", trial_.loss.plugin(), e.what()));
    }
    d_loss_ += penalty_;
    if (!std::isfinite(d_loss_)) return fmt::format("non-finite discriminator penalty at step {}", step);
    d_opt_.step();
    ++result_.d_updates;
    m_.loss->after_discriminator_step(d_params_);
  }
  return std::nullopt;
}

// G step: D is only differentiated with respect to its input; its weights are left alone.
bool TrainingLoop::generator_step() {
  if (g_uses_real_) {
    // The real batch goes through D on its own, before the fake one: a batch-coupled D then sees
    // it as in the critic step, and D's state for the backward below is the fake forward's. Its
    // logits are constants for G, so it needs no backward (cheaper than one [2B] pass would be).
    sample_real(g_real_rng_, g_real_, g_real_labels_);
    label_d(g_real_labels_);
    g_real_logits_.copy_rows_from(d_.forward(g_real_, Mode::train), 0);
  }
  latent_rng_.fill_normal(z_.values());
  draw_fake_labels();
  label_d(fake_labels_);
  const Tensor& fake = g_.forward(z_, Mode::train);
  const Tensor& logits = d_.forward(fake, Mode::train);
  g_loss_ = m_.loss->generator_loss(g_real_logits_.values(), logits.values(), g_grad_.values());
  if (!std::isfinite(g_loss_)) return false;
  const Tensor& dx = d_.backward(g_grad_, {.input_grad = true, .weight_grad = false});
  g_opt_.zero_grad();
  g_.backward(dx, {.input_grad = false, .weight_grad = true});
  g_opt_.step();
  ++result_.g_updates;
  return true;
}

void TrainingLoop::log(int64_t step) {
  sink_.metric(step, "loss.d", d_loss_);
  sink_.metric(step, "loss.g", g_loss_);
  if (penalty_ != 0) sink_.metric(step, "loss.penalty", penalty_);
  sink_.progress(step, steps_, d_loss_, g_loss_);
}

TrialResult TrainingLoop::finish(TrialOutcome outcome, int64_t step, std::string message) {
  result_.outcome = outcome;
  result_.step = step;
  result_.message = std::move(message);
  return result_;
}

// Everything a checkpoint keeps, named: G's and D's parameters and buffers (through the generic
// Layer lists, so any layer's state is covered), both optimizers' moments, the EMA, every stream.
TrainingState TrainingLoop::state() {
  TrainingState st;
  st.architecture = checkpoint_architecture(trial_, m_);
  for (auto [prefix, net, opt] : {std::tuple<const char*, Layer*, Adam*>{"g", &g_, &g_opt_}, {"d", &d_, &d_opt_}}) {
    for (auto& named : network_tensors(prefix, *net)) st.tensors.push_back(std::move(named));
    const auto moments = opt->moments();
    for (size_t i = 0; i < moments.size(); ++i)
      st.tensors.emplace_back(fmt::format("{}.adam.{}.{}", prefix, i % 2 == 0 ? "m" : "v", i / 2), moments[i]);
    st.counters[fmt::format("{}.adam.steps", prefix)] = opt->steps();
  }
  if (ema_)
    for (auto& named : ema_->tensors()) st.tensors.push_back(std::move(named));
  st.streams = {{"data", &data_rng_}, {"latent", &latent_rng_}, {"penalty", &penalty_rng_}, {"g.real", &g_real_rng_},
                {"labels", &label_rng_}};
  st.counters["step"] = 0;  // the checkpointer writes the step it saves
  st.counters["d_updates"] = result_.d_updates;
  st.counters["g_updates"] = result_.g_updates;
  st.data = m_.data.get();
  return st;
}

int64_t TrainingLoop::resume() {
  TrainingState st = state();
  const int64_t step = checkpointer_.resume(st);
  if (step == 0) return 0;
  g_opt_.set_steps(st.counters.at("g.adam.steps"));
  d_opt_.set_steps(st.counters.at("d.adam.steps"));
  result_.d_updates = st.counters.at("d_updates");
  result_.g_updates = st.counters.at("g_updates");
  return step;
}

TrialResult TrainingLoop::run(const std::function<void(int64_t)>& step_observer,
                              const std::function<void(int64_t, const Tensor&)>& eval_observer) {
  // A resumed trial measured everything up to its checkpoint's step in its earlier attempt.
  const int64_t first = resume();
  if (first == 0) evaluate(0, eval_observer);
  for (const auto& [key, value] : m_.data->notes()) sink_.note(fmt::format("{}.{}", trial_.data.plugin(), key), value);
  for (size_t i = 0; i < m_.metrics.size(); ++i)
    for (const auto& [key, value] : m_.metrics[i]->notes())
      sink_.note(fmt::format("{}.{}", trial_.metrics[i].plugin(), key), value);
  sink_.flush();
  for (int64_t step = first + 1; step <= steps_; ++step) {
    if (stop_ != nullptr && stop_->load(std::memory_order_relaxed) > 0) {
      save_checkpoint(step - 1);  // what was trained so far is kept for the next attempt
      return finish(TrialOutcome::interrupted, step - 1, "interrupted");
    }
    schedule_learning_rates(step);
    if (auto diverged = critic_steps(step)) {
      sink_.metric(step, "loss.d", d_loss_);
      sink_.flush();
      return finish(TrialOutcome::diverged, step, *diverged);
    }
    if (!generator_step()) {
      sink_.metric(step, "loss.g", g_loss_);
      sink_.flush();
      return finish(TrialOutcome::diverged, step, fmt::format("non-finite generator loss at step {}", step));
    }
    if (ema_) ema_->update(step);
    if (step_observer) step_observer(step);
    if (step % log_every_ == 0 || step == steps_) log(step);
    if (step % eval_every_ == 0 || step == steps_) evaluate(step, eval_observer);
    if (checkpointer_.due(step)) save_checkpoint(step);
  }
  sink_.flush();
  return finish(TrialOutcome::completed, steps_, "");
}

}  // namespace

Trainer::Trainer(const TrialConfig& trial, EventSink& sink, const std::atomic<int>* stop)
    : trial_(trial), sink_(sink), stop_(stop) {}

TrialResult Trainer::run() {
  TrialModels models = build_trial_models(trial_);
  TrainingLoop loop(trial_, models, sink_, stop_, plan_);
  return loop.run(step_observer_, observer_);
}

namespace {
uint64_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}
}  // namespace

Trainer::Cost Trainer::rehearse(int64_t max_batch) {
  const uint64_t before = heap_in_use();
  TrialModels models = build_trial_models(trial_);
  Cost cost;
  const uint64_t built = heap_in_use();
  cost.build_bytes = built > before ? built - before : 0;
  // The smaller batch is rounded up to whole packed inputs; build_trial_models checked that the
  // trial's own batch is a multiple of the pack, so the rounded one does not exceed it.
  const int64_t batch = trial_.train.integer("batch_size"), pack = models.discriminator->pack();
  cost.batch = max_batch > 0 && max_batch < batch ? (max_batch + pack - 1) / pack * pack : batch;
  TrialConfig stepped = trial_;
  stepped.train.set("batch_size", cost.batch);
  TrainingLoop loop(stepped, models, sink_, stop_);
  loop.rehearse();
  const uint64_t trained = heap_in_use();
  cost.train_bytes = trained > before ? trained - before : 0;
  // G at two batch sizes: each shape keeps its own buffers, so the difference of the two
  // increments is the per-sample part without the per-shape constant.
  Layer& g = models.generator->layer();
  const int64_t latent = models.generator->latent_dim(), small = 8, large = 40;
  LabelSlot* labels = models.generator->label_slot();
  if (labels != nullptr) labels->set(cyclic_labels(small, labels->classes()));
  g.forward(Tensor({small, latent}), Mode::eval);
  const uint64_t at_small = heap_in_use();
  if (labels != nullptr) labels->set(cyclic_labels(large, labels->classes()));
  g.forward(Tensor({large, latent}), Mode::eval);
  const uint64_t at_large = heap_in_use();
  const int64_t grow_small = static_cast<int64_t>(at_small) - static_cast<int64_t>(trained);
  const int64_t grow_large = static_cast<int64_t>(at_large) - static_cast<int64_t>(at_small);
  int64_t sample_elems = 1;
  for (int64_t d : models.sample_shape) sample_elems *= d;
  const int64_t activations = std::max<int64_t>(0, grow_large - grow_small) / (large - small);
  // The evaluation z, G's output and the copy the metrics read.
  cost.eval_sample_bytes = static_cast<uint64_t>(activations + 4 * (latent + 2 * sample_elems));
  return cost;
}

}  // namespace gantry
