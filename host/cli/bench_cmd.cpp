// gantry bench step|eval|peak: the training step's speed on the reference models, and the machine's
// fp32 matmul peak. bench/compare.py runs both beside PyTorch and prints the table.
#include "bench/bench.hpp"
#include "cli/commands.hpp"

#include <gantry/engine.hpp>

#include <algorithm>
#include <fmt/format.h>
#include <iostream>
#include <unistd.h>

namespace gantry::cli {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// gantry bench checkpoint: what saving checkpoints costs beside training (docs/PERFORMANCE.md).
void add_checkpoint_bench(CLI::App* cmd, GlobalOptions& global, int& result, const std::shared_ptr<bool>& json) {
  struct CheckpointOptions {
    std::string experiment, folder;
    int64_t steps = 200, every = 50, share_every = 1000;
    int threads = 2;
  };
  auto ck = std::make_shared<CheckpointOptions>();
  auto* ckc = cmd->add_subcommand("checkpoint", "one checkpoint's write time and size against the training between them");
  ckc->add_option("experiment", ck->experiment, "experiment file (its first trial)")->required();
  ckc->add_option("--steps", ck->steps, "training steps timed")->capture_default_str();
  ckc->add_option("--every", ck->every, "write a checkpoint every this many steps while timing")->capture_default_str();
  ckc->add_option("--share-every", ck->share_every, "report the share of time at this checkpoint_every")->capture_default_str();
  ckc->add_option("--threads", ck->threads, "oneDNN threads")->capture_default_str();
  ckc->add_option("--dir", ck->folder, "folder for the checkpoints (default: a temporary one, removed after)");
  ckc->add_flag("--json", *json, "one JSON object instead of text");
  ckc->callback([&global, &result, ck, json] {
    Registry registry;
    registry.discover(Registry::search_path(global.plugin_paths));
    std::filesystem::path folder = ck->folder;
    if (folder.empty()) folder = std::filesystem::temp_directory_path() / fmt::format("gantry-bench-checkpoint-{}", getpid());
    const CheckpointBenchResult r = run_checkpoint_bench(ck->experiment, ck->steps, ck->every, ck->threads, folder, registry);
    std::error_code ec;
    if (ck->folder.empty()) std::filesystem::remove_all(folder, ec);
    if (*json)
      std::cout << fmt::format(R"({{"experiment": "{}", "threads": {}, "step_s": {:.6f}, "write_s": {:.4f}, "bytes": {}, "writes": {}, "share_every": {}, "share": {:.5f}}})"
                               "\n", ck->experiment, ck->threads, r.step_seconds, r.write_seconds, r.bytes, r.written,
                               ck->share_every, r.share(ck->share_every));
    else
      std::cout << fmt::format("{}: a checkpoint of {:.2f} MB takes {:.1f} ms to write (mean of {}), a step {:.2f} ms; "
                               "checkpointing every {} steps spends {:.2f} % of the time on it\n",
                               ck->experiment, static_cast<double>(r.bytes) / 1e6, 1e3 * r.write_seconds, r.written,
                               1e3 * r.step_seconds, ck->share_every, 100 * r.share(ck->share_every));
    result = ExitCode::ok;
  });

}

}  // namespace

void add_bench_command(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("bench", "time gantry's training step and the machine's matmul peak");
  cmd->require_subcommand(1);
  auto spec = std::make_shared<StepBenchSpec>();
  auto json = std::make_shared<bool>(false);
  auto* step = cmd->add_subcommand("step", "steps per second of a reference model (docs/PERFORMANCE.md)");
  step->add_option("--model", spec->model, "mlp (ring8), dcgan or resnet (Fashion-MNIST)")->capture_default_str();
  step->add_option("--loss", spec->loss, "nonsaturating, or wgan-gp (gradient penalty, one D step per step)")
      ->capture_default_str();
  step->add_option("--batch", spec->batch, "batch size (real and fake each)")->capture_default_str();
  step->add_option("--threads", spec->threads, "oneDNN threads")->capture_default_str();
  step->add_option("--warmup", spec->warmup, "untimed steps first")->capture_default_str();
  step->add_option("--steps", spec->steps, "steps per timed repeat")->capture_default_str();
  step->add_option("--repeats", spec->repeats, "timed repeats")->capture_default_str();
  step->add_flag("--spectral-norm", spec->spectral_norm, "D with spectral normalisation (spectral_norm = true)");
  step->add_flag("--conditional", spec->conditional,
                 "class-conditional G and D ([train] conditional = true: dcgan's and resnet's conditional batch "
                 "norm and projection D, mlp's one-hot z and projection D)");
  step->add_flag("--json", *json, "one JSON object instead of text");
  step->callback([&global, &result, spec, json] {
    Registry registry;
    registry.discover(Registry::search_path(global.plugin_paths));
    const StepBenchResult r = run_step_bench(*spec, registry);
    const auto [lo, hi] = std::minmax_element(r.steps_per_second.begin(), r.steps_per_second.end());
    const double med = median(r.steps_per_second);
    if (*json) {
      std::cout << fmt::format(
          R"({{"model": "{}", "loss": "{}", "batch": {}, "threads": {}, "steps_per_s": {{"min": {:.3f}, "median": {:.3f}, "max": {:.3f}}}, )"
          R"("gflop_per_step": {:.4f}, "gflops": {:.2f}, "peak_rss_mib": {:.1f}, "repeats": {}, "steps": {}, "spectral_norm": {}, "conditional": {}}})"
          "\n",
          spec->model, spec->loss, spec->batch, spec->threads, *lo, med, *hi, r.flops_per_step / 1e9, med * r.flops_per_step / 1e9,
          r.peak_rss_mib, spec->repeats, spec->steps, spec->spectral_norm, spec->conditional);
    } else {
      std::cout << fmt::format("{} ({}{}{}) batch {} on {} thread(s): {:.2f} steps/s median (min {:.2f}, max {:.2f}) over {} × {} steps\n"
                               "{:.3f} GFLOP per step → {:.1f} GFLOP/s; peak RSS {:.0f} MiB\n",
                               spec->model, spec->loss, spec->spectral_norm ? ", spectral norm" : "",
                               spec->conditional ? ", conditional" : "", spec->batch,
                               spec->threads, med, *lo, *hi, spec->repeats, spec->steps,
                               r.flops_per_step / 1e9, med * r.flops_per_step / 1e9, r.peak_rss_mib);
    }
    result = ExitCode::ok;
  });

  struct EvalOptions {
    std::string experiment;
    int64_t steps = 100;
    int threads = 2;
  };
  auto eval = std::make_shared<EvalOptions>();
  auto* ev = cmd->add_subcommand("eval", "one evaluation's time against the training between evaluations");
  ev->add_option("experiment", eval->experiment, "experiment file (its first trial)")->required();
  ev->add_option("--steps", eval->steps, "training steps timed")->capture_default_str();
  ev->add_option("--threads", eval->threads, "oneDNN threads")->capture_default_str();
  ev->add_flag("--json", *json, "one JSON object instead of text");
  ev->callback([&global, &result, eval, json] {
    Registry registry;
    registry.discover(Registry::search_path(global.plugin_paths));
    const EvalBenchResult r = run_eval_bench(eval->experiment, eval->steps, eval->threads, registry);
    if (*json)
      std::cout << fmt::format(R"({{"experiment": "{}", "threads": {}, "step_s": {:.6f}, "eval_s": {:.3f}, "eval_every": {}, "eval_share": {:.4f}}})"
                               "\n", eval->experiment, eval->threads, r.step_seconds, r.eval_seconds, r.eval_every, r.share());
    else
      std::cout << fmt::format("{}: a step takes {:.2f} ms, an evaluation {:.2f} s; evaluating every {} steps spends "
                               "{:.1f} % of the time on evaluation\n",
                               eval->experiment, 1e3 * r.step_seconds, r.eval_seconds, r.eval_every, 100 * r.share());
    result = ExitCode::ok;
  });

  add_checkpoint_bench(cmd, global, result, json);

  auto peak = std::make_shared<std::pair<int, int64_t>>(1, 2048);
  auto* pk = cmd->add_subcommand("peak", "GFLOP/s of one large fp32 matmul on oneDNN");
  pk->add_option("--threads", peak->first, "oneDNN threads")->capture_default_str();
  pk->add_option("--size", peak->second, "n of the n×n×n product")->capture_default_str();
  pk->add_flag("--json", *json, "one JSON object instead of text");
  pk->callback([&result, peak, json] {
    const double g = matmul_peak_gflops(peak->first, peak->second, 5);
    if (*json)
      std::cout << fmt::format(R"({{"threads": {}, "size": {}, "gflops": {:.2f}}})" "\n", peak->first, peak->second, g);
    else
      std::cout << fmt::format("fp32 matmul {}³ on {} thread(s): {:.1f} GFLOP/s (best of 5)\n", peak->second, peak->first, g);
    result = ExitCode::ok;
  });
}

}  // namespace gantry::cli
