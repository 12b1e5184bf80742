#pragma once
// Speed of gantry's training step on the reference models of docs/PERFORMANCE.md, and the
// machine's practical fp32 peak, measured in the same process so ratios can be compared.
#include "registry/registry.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace gantry {

struct StepBenchSpec {
  std::string model = "mlp";  ///< "mlp" (ring8), "dcgan" or "resnet" (Fashion-MNIST)
  std::string loss = "nonsaturating";  ///< or "wgan-gp": Wasserstein with the gradient penalty, n_critic 1
  bool spectral_norm = false;          ///< D's `spectral_norm = true`
  bool conditional = false;            ///< `[train] conditional = true`: class-conditional G and D
  int64_t batch = 256;
  int threads = 1;
  int64_t warmup = 20;   ///< steps before timing
  int64_t steps = 50;    ///< steps per timed repeat
  int64_t repeats = 5;
};

struct StepBenchResult {
  std::vector<double> steps_per_second;  ///< one per repeat
  double flops_per_step = 0;             ///< 2 × multiply-adds of the passes the step runs
  double peak_rss_mib = 0;               ///< of this process so far
};

/// The experiment text of a reference model: exactly the trainer's step (D on real + G(z), then
/// G with fresh z), non-saturating loss, Adam(2e-4, 0.5, 0.999), no evaluation.
std::string bench_experiment(const StepBenchSpec& spec);
/// Runs the trainer on it, timing `repeats` windows of `steps` steps after `warmup` steps.
StepBenchResult run_step_bench(const StepBenchSpec& spec, const Registry& registry);

/// Multiply-adds per sample of the Linear/Conv2d/ConvTranspose2d layers of G and D (inside
/// residual blocks too), total and in their first layer (whose input gradient no step needs).
struct ModelMacs {
  double g = 0, g_first = 0, d = 0, d_first = 0;
};
ModelMacs model_macs(const StepBenchSpec& spec, const Registry& registry);
/// FLOPs of one step: D step = G fwd (B) + D fwd, bwd-weights, bwd-data (2B); G step = G fwd,
/// D fwd, D bwd-data, G bwd-weights, G bwd-data (B); first layers skip bwd-data.
double step_flops(const ModelMacs& m, int64_t batch);
/// FLOPs the gradient penalty adds to a D step on B interpolates: ∇x D (D fwd, bwd-data), the dual
/// forward (2 D fwd) and, for a piecewise-linear D, one backward of the tangent (bwd-weights and
/// bwd-data but the first layer's).
double penalty_flops(const ModelMacs& m, int64_t batch);

/// GFLOP/s of oneDNN's fp32 matmul on n×n×n, best of `repeats` after one warm-up.
double matmul_peak_gflops(int threads, int64_t n, int repeats);

/// What an evaluation costs beside training, for a shipped experiment: the time of one
/// evaluation (all its metrics at their configured sample counts, after the first, which loads
/// reference data) against the eval_every steps of training before it.
struct EvalBenchResult {
  double step_seconds = 0;  ///< one training step
  double eval_seconds = 0;  ///< one evaluation
  int64_t eval_every = 0;   ///< the experiment's setting
  double share() const { return eval_seconds / (eval_seconds + step_seconds * static_cast<double>(eval_every)); }
};
/// Trains the experiment's first trial for `steps` steps, evaluating at 0 and at the end.
EvalBenchResult run_eval_bench(const std::filesystem::path& experiment, int64_t steps, int threads,
                               const Registry& registry);

/// What saving checkpoints costs beside training, for a shipped experiment.
struct CheckpointBenchResult {
  double step_seconds = 0;    ///< one training step, checkpoints excluded
  double write_seconds = 0;   ///< one checkpoint, the mean over those written
  uint64_t bytes = 0;         ///< one checkpoint's size
  int64_t written = 0;
  /// The share of a run's time spent writing checkpoints every `every` steps.
  double share(int64_t every) const {
    return write_seconds / (write_seconds + step_seconds * static_cast<double>(every));
  }
};
/// Trains the experiment's first trial for `steps` steps, saving a checkpoint every `every` steps
/// into `folder`, and times the writes apart from the steps.
CheckpointBenchResult run_checkpoint_bench(const std::filesystem::path& experiment, int64_t steps, int64_t every,
                                           int threads, const std::filesystem::path& folder, const Registry& registry);

/// Peak resident set size of this process, MiB.
double peak_rss_mib();

}  // namespace gantry
