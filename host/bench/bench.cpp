#include "bench/bench.hpp"

#include "config/experiment.hpp"
#include "train/trainer.hpp"

#include <gantry/conditional.hpp>
#include <gantry/data.hpp>
#include <gantry/engine.hpp>
#include <gantry/error.hpp>
#include <gantry/layers.hpp>
#include <gantry/model.hpp>

#include <chrono>
#include <fmt/format.h>
#include <functional>
#include <oneapi/dnnl/dnnl.hpp>
#include <sys/resource.h>

namespace gantry {

namespace {

using Clock = std::chrono::steady_clock;

struct NullSink final : EventSink {
  void metric(int64_t, std::string_view, double) override {}
};

}  // namespace

std::string bench_experiment(const StepBenchSpec& spec) {
  std::string models;
  if (spec.model == "mlp") {
    models = R"([data]
plugin = "ring8"
[generator]
plugin = "mlp"
latent_dim = 16
width = 256
depth = 3
[discriminator]
plugin = "mlp"
width = 256
depth = 3
activation = "leaky_relu"
slope = 0.2
)";
  } else if (spec.model == "dcgan") {
    models = R"([data]
plugin = "fashion_mnist"
[generator]
plugin = "dcgan"
latent_dim = 100
channels = 64
[discriminator]
plugin = "dcgan"
channels = 64
)";
  } else if (spec.model == "resnet") {
    // SNGAN's ResNet pair at 28×28 with 64 feature maps (its CIFAR models have 256 in G, 128 in D:
    // 4-16× the work, too slow for a machine shared with builds).
    models = R"([data]
plugin = "fashion_mnist"
[generator]
plugin = "resnet"
latent_dim = 128
channels = 64
[discriminator]
plugin = "resnet"
channels = 64
)";
    // Its D is normalised by default; the row says which it measures.
    if (!spec.spectral_norm) models += "spectral_norm = false\n";
  } else {
    throw ConfigError(fmt::format("unknown bench model '{}' (available: dcgan, mlp, resnet)", spec.model));
  }
  // D's section is the last of `models`: the option goes to it.
  if (spec.spectral_norm) models += "spectral_norm = true\n";
  std::string loss = "plugin = \"nonsaturating\"\n", n_critic;
  if (spec.loss == "wgan-gp") {
    loss = "plugin = \"wasserstein\"\nmode = \"gp\"\nlambda = 10.0\n";
    n_critic = "n_critic = 1\n";  // one D step per step, as in the non-saturating row
  } else if (spec.loss != "nonsaturating") {
    throw ConfigError(fmt::format("unknown bench loss '{}' (available: nonsaturating, wgan-gp)", spec.loss));
  }
  const int64_t total = spec.warmup + spec.steps * spec.repeats;
  return fmt::format(R"([experiment]
name = "bench-{}"
{}[loss]
{}[optimizer]
lr = 2e-4
beta1 = 0.5
beta2 = 0.999
[train]
steps = {}
batch_size = {}
log_every = {}
eval_every = {}
eval_samples = 2
sample_grid = 0
{}{})",
                     spec.model, models, loss, total, spec.batch, total, total, n_critic,
                     spec.conditional ? "conditional = true\n" : "");
}

ModelMacs model_macs(const StepBenchSpec& spec, const Registry& registry) {
  const Experiment exp = parse_experiment(bench_experiment(spec), "bench.toml", registry);
  const TrialConfig& trial = exp.trials.at(0).config;
  BuildContext ctx{{}, 0};
  auto data = instantiate<DataSource>(trial.data, ctx);
  ctx.sample_shape = data->sample_shape();
  if (spec.conditional) ctx.num_classes = data->num_classes();
  auto gen = instantiate<Generator>(trial.generator, ctx);
  auto disc = instantiate<Discriminator>(trial.discriminator, ctx);
  const int32_t label = 0;
  for (Model* model : {static_cast<Model*>(gen.get()), static_cast<Model*>(disc.get())})
    if (LabelSlot* slot = model->label_slot()) slot->set({&label, 1});
  // Walk each network's layers (into nested Sequentials and residual blocks) on one input to learn
  // every layer's output size.
  auto walk = [](auto& self, Layer& l, Tensor x, double& total, double& first, bool& seen_first) -> Tensor {
    if (auto* seq = dynamic_cast<Sequential*>(&l)) {
      for (size_t i = 0; i < seq->size(); ++i) x = self(self, seq->at(i), x, total, first, seen_first);
      return x;
    }
    if (auto* block = dynamic_cast<Residual*>(&l)) {  // main branch first, as the block runs them
      self(self, block->main(), x, total, first, seen_first);
      if (block->shortcut() != nullptr) self(self, *block->shortcut(), x, total, first, seen_first);
      return block->forward(x, Mode::eval);
    }
    const std::vector<int64_t> in_shape = x.shape();
    x = l.forward(x, Mode::eval);
    double macs = 0;
    if (auto* w = dynamic_cast<WeightedLayer*>(&l)) {
      macs = static_cast<double>(w->weight().value.size());
      if (dynamic_cast<Conv2d*>(&l) != nullptr) macs *= static_cast<double>(x.dim(2) * x.dim(3));
      if (dynamic_cast<ConvTranspose2d*>(&l) != nullptr) macs *= static_cast<double>(in_shape[2] * in_shape[3]);
      if (!seen_first) first = macs, seen_first = true;
    } else if (dynamic_cast<ProjectionHead*>(&l) != nullptr) {
      macs = 2.0 * static_cast<double>(in_shape[1]);  // ψ and the inner product with E[y]
    }
    total += macs;
    return x;
  };
  auto walk_net = [&](Layer& net, const Tensor& x, double& total, double& first) {
    if (dynamic_cast<Sequential*>(&net) == nullptr) throw Error("bench: a model that is not a Sequential");
    bool seen_first = false;
    return walk(walk, net, x, total, first, seen_first);
  };
  ModelMacs m;
  // A packing D (PacGAN) reads pack() samples as one input: its MACs per sample are those of one
  // input over pack().
  const int64_t pack = disc->pack();
  Tensor z({pack, gen->latent_dim()});
  const Tensor samples = walk_net(gen->layer(), z, m.g, m.g_first);
  walk_net(disc->layer(), samples, m.d, m.d_first);
  m.d /= static_cast<double>(pack), m.d_first /= static_cast<double>(pack);
  return m;
}

double step_flops(const ModelMacs& m, int64_t batch) {
  const double b = static_cast<double>(batch);
  const double d_step = b * m.g + 2 * b * (m.d + m.d + (m.d - m.d_first));
  const double g_step = b * (m.g + m.d + m.d + m.g + (m.g - m.g_first));
  return 2 * (d_step + g_step);
}

double penalty_flops(const ModelMacs& m, int64_t batch) {
  return 2 * static_cast<double>(batch) * (m.d + m.d + 2 * m.d + m.d + (m.d - m.d_first));
}

StepBenchResult run_step_bench(const StepBenchSpec& spec, const Registry& registry) {
  if (spec.batch < 1 || spec.steps < 1 || spec.repeats < 1 || spec.warmup < 1)
    throw ConfigError("bench: batch, warmup, steps and repeats must be positive");
  set_num_threads(spec.threads);
  StepBenchResult r;
  const ModelMacs macs = model_macs(spec, registry);
  r.flops_per_step = step_flops(macs, spec.batch) + (spec.loss == "wgan-gp" ? penalty_flops(macs, spec.batch) : 0.0);
  const Experiment exp = parse_experiment(bench_experiment(spec), "bench.toml", registry);
  NullSink sink;
  Trainer trainer(exp.trials.at(0).config, sink);
  Clock::time_point window_start;
  trainer.on_step([&](int64_t step) {
    const int64_t timed = step - spec.warmup;
    if (timed < 0) return;
    if (timed % spec.steps != 0) return;  // windows start at step `warmup` and every `steps` after
    const auto now = Clock::now();
    if (timed > 0)
      r.steps_per_second.push_back(static_cast<double>(spec.steps) /
                                   std::chrono::duration<double>(now - window_start).count());
    window_start = now;
  });
  if (trainer.run().outcome != TrialOutcome::completed) throw Error("bench: the training run did not complete");
  r.peak_rss_mib = peak_rss_mib();
  return r;
}

EvalBenchResult run_eval_bench(const std::filesystem::path& experiment, int64_t steps, int threads,
                               const Registry& registry) {
  if (steps < 2) throw ConfigError("bench eval: --steps must be at least 2");
  set_num_threads(threads);
  Experiment exp = load_experiment(experiment, registry);
  TrialConfig trial = exp.trials.at(0).config;
  EvalBenchResult r;
  r.eval_every = trial.train.integer("eval_every");
  trial.train.set("steps", steps);
  trial.train.set("eval_every", steps);
  NullSink sink;
  Trainer trainer(trial, sink);
  Clock::time_point first, last;
  trainer.on_step([&](int64_t step) {
    if (step == 1) first = Clock::now();
    if (step == steps) last = Clock::now();
  });
  if (trainer.run().outcome != TrialOutcome::completed) throw Error("bench eval: the training run did not complete");
  const auto end = Clock::now();
  r.step_seconds = std::chrono::duration<double>(last - first).count() / static_cast<double>(steps - 1);
  r.eval_seconds = std::chrono::duration<double>(end - last).count();
  return r;
}

namespace {
// The trainer flushes its sink right before it writes a checkpoint and reports the checkpoint
// right after, so the time between the two is the write (serialising, hashing, fsync, rename).
class CheckpointTimer final : public EventSink {
 public:
  void metric(int64_t, std::string_view, double) override {}
  void flush() override { flushed_ = Clock::now(); }
  void checkpoint(int64_t, uint64_t size, std::string_view) override {
    seconds += std::chrono::duration<double>(Clock::now() - flushed_).count();
    bytes = size;
    ++count;
  }
  double seconds = 0;
  uint64_t bytes = 0;
  int64_t count = 0;

 private:
  Clock::time_point flushed_;
};
}  // namespace

CheckpointBenchResult run_checkpoint_bench(const std::filesystem::path& experiment, int64_t steps, int64_t every,
                                           int threads, const std::filesystem::path& folder, const Registry& registry) {
  if (steps < 2 || every < 1) throw ConfigError("bench checkpoint: --steps must be at least 2 and --every at least 1");
  set_num_threads(threads);
  Experiment exp = load_experiment(experiment, registry);
  TrialConfig trial = exp.trials.at(0).config;
  trial.train.set("steps", steps);
  trial.train.set("eval_every", steps + 1);  // evaluations at 0 and the end only, outside the timing
  trial.train.set("checkpoint_every", every);
  CheckpointTimer sink;
  Trainer trainer(trial, sink);
  trainer.checkpoints({folder, {}});
  Clock::time_point first, last;
  trainer.on_step([&](int64_t step) {
    if (step == 1) first = Clock::now();
    if (step == steps) last = Clock::now();
  });
  if (trainer.run().outcome != TrialOutcome::completed) throw Error("bench checkpoint: the training run did not complete");
  CheckpointBenchResult r;
  r.written = sink.count;
  r.bytes = sink.bytes;
  r.write_seconds = sink.seconds / static_cast<double>(std::max<int64_t>(1, sink.count));
  // Checkpoints written between step 1 and the last step's observer fall inside the timed span.
  const double timed_writes = r.write_seconds * static_cast<double>((steps - 1) / every);
  r.step_seconds = (std::chrono::duration<double>(last - first).count() - timed_writes) / static_cast<double>(steps - 1);
  return r;
}

double matmul_peak_gflops(int threads, int64_t n, int repeats) {
  set_num_threads(threads);
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const dnnl::memory::desc md({n, n}, dt::f32, tag::ab);
  dnnl::matmul mm(dnnl::matmul::primitive_desc({md, md, md}, engine()));
  dnnl::memory a(md, engine()), b(md, engine()), c(md, engine());
  for (dnnl::memory* m : {&a, &b}) {
    auto* p = static_cast<float*>(m->get_data_handle());
    for (int64_t i = 0; i < n * n; ++i) p[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
  }
  double best = 0;
  for (int r = 0; r <= repeats; ++r) {
    const auto t0 = Clock::now();
    mm.execute(stream(), {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
    stream().wait();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (r > 0) best = std::max(best, 2.0 * static_cast<double>(n * n * n) / s / 1e9);  // r = 0 warms up
  }
  return best;
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux reports KiB
}

}  // namespace gantry
