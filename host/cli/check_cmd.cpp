// gantry check PLUGIN: finite-difference, finiteness and sign checks of a loss plugin.
#include "check/loss_check.hpp"
#include "cli/commands.hpp"
#include "registry/registry.hpp"
#include "train/trainer.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <iostream>

namespace gantry::cli {

void add_check_command(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("check", "check a loss plugin's gradients, finiteness and sign convention");
  auto target = std::make_shared<std::string>();
  cmd->add_option("plugin", *target, "a loss plugin's name, or the path of its .so file")->required();
  cmd->callback([&global, &result, target] {
    Registry registry;
    const PluginLibrary* lib = nullptr;
    if (target->find('/') != std::string::npos || target->ends_with(".so")) {
      lib = &registry.add_file(*target);
      if (lib->kind() != PluginKind::loss)
        throw ConfigError(fmt::format("'{}' is a {} plugin; gantry check checks loss plugins", *target,
                                      to_string(lib->kind())));
    } else {
      registry.discover(Registry::search_path(global.plugin_paths));
      lib = &registry.get(PluginKind::loss, *target);
    }
    const PluginChoice choice{"loss", lib, Params::defaults(lib->descriptor->params)};
    auto loss = instantiate<Loss>(choice, BuildContext{{1}, 0});
    const LossCheckReport report = check_loss(*loss);
    std::cout << fmt::format("loss {} {} ({})\n", lib->name(), lib->descriptor->version, lib->file.string());
    for (const auto& line : report.lines) std::cout << "  " << line << "\n";
    std::cout << fmt::format("{}: worst relative gradient error {:.2e} (D), {:.2e} (G)\n",
                             report.passed ? "passed" : "FAILED", report.worst_d_error, report.worst_g_error);
    result = report.passed ? ExitCode::ok : ExitCode::run_failed;
  });
}

}  // namespace gantry::cli
