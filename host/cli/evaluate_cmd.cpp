// gantry evaluate: a metric plugin on stored checkpoints, recorded like the trainer's values.
#include "cli/commands.hpp"

#include "eval/evaluate.hpp"
#include "store/store.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <iostream>
#include <memory>

namespace gantry::cli {

void add_evaluate_command(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("evaluate", "run a metric on stored checkpoints (every evaluation step that has one) "
                                             "and record its values");
  auto o = std::make_shared<EvaluateOptions>();
  cmd->add_option("target", o->target, "a run id, or an experiment's name (all its runs)")->required();
  cmd->add_option("--metric", o->metric, "metric plugin to run")->required();
  cmd->add_option("--set", o->sets, "a parameter of the metric, key=value (repeatable; default: the run's own "
                                    "setting when its experiment measured it, else the plugin's default)")
      ->type_name("KEY=VALUE");
  cmd->add_flag("--force", o->force, "compute values already recorded again, replacing them");
  cmd->add_option("--db", global.db, "results database")->capture_default_str();
  cmd->callback([&global, &result, o] {
    open_results(global.db);  // an existing gantry database, checked before it is opened for writing
    ResultStore store(global.db);
    Registry registry;
    registry.discover(Registry::search_path(global.plugin_paths));
    evaluate_stored(store, registry, *o, std::cout);
    result = ExitCode::ok;
  });
}

}  // namespace gantry::cli
