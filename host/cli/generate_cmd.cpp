// gantry generate: samples from a stored run's G at one of its checkpoints.
#include "cli/commands.hpp"

#include "sample/generate.hpp"
#include "store/store.hpp"

#include <fmt/format.h>
#include <iostream>
#include <memory>

namespace gantry::cli {

void add_generate_command(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("generate", "sample from a stored run's generator at one of its checkpoints");
  auto o = std::make_shared<GenerateOptions>();
  auto step = std::make_shared<int64_t>(-1);
  auto ema = std::make_shared<bool>(false), raw = std::make_shared<bool>(false);
  cmd->add_option("run", o->run_id, "run id")->required();
  cmd->add_option("--step", *step, "the checkpoint's step (default: the newest)");
  auto* ema_flag = cmd->add_flag("--ema", *ema, "use the EMA generator (the default when the run kept one)");
  cmd->add_flag("--raw", *raw, "use G's own weights, not the EMA average")->excludes(ema_flag);
  cmd->add_option("-n,--count", o->count, "samples to draw (rows with --interpolate)")->capture_default_str();
  cmd->add_option("-o,--output", o->out,
                  "where to write: FILE.png (a grid, or a scatter for 2D data), FILE.npy (a float32 numpy array "
                  "[N, ...], [N, K, ...] with --interpolate) or a folder (one PNG per sample, 0000.png ...)")
      ->required();
  cmd->add_option("--seed", o->seed, "seed of the latent draws")->capture_default_str();
  cmd->add_option("--interpolate", o->interpolate,
                  "K: each row goes in K steps between two latent draws along a great circle (spherical "
                  "interpolation, slerp)");
  cmd->add_option("--db", global.db, "results database")->capture_default_str();
  cmd->callback([&global, &result, o, step, ema, raw] {
    if (*step >= 0) o->step = *step;
    if (*ema) o->copy = GeneratorCopy::ema;
    if (*raw) o->copy = GeneratorCopy::raw;
    Database db = open_results(global.db);
    Registry registry;
    registry.discover(Registry::search_path(global.plugin_paths));
    const GenerateReport r = generate(db, global.db, registry, *o);
    std::cout << fmt::format("wrote {}: {} from run {} at step {} ({} generator)\n", o->out.string(), r.what, o->run_id,
                             r.step, r.copy == GeneratorCopy::ema ? "EMA" : "raw");
    result = ExitCode::ok;
  });
}

}  // namespace gantry::cli
