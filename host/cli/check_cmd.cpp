// gantry check PLUGIN: finite-difference, finiteness and sign checks of a loss plugin, at its
// defaults (or --set values) and at each numeric parameter's range ends.
#include "check/check_settings.hpp"
#include "check/loss_check.hpp"
#include "cli/commands.hpp"
#include "registry/registry.hpp"
#include "train/trainer.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <iostream>

namespace gantry::cli {

namespace {

const PluginLibrary& find_loss(Registry& registry, const std::string& target, const GlobalOptions& global) {
  if (target.find('/') != std::string::npos || target.ends_with(".so")) {
    const PluginLibrary& lib = registry.add_file(target);
    if (lib.kind() != PluginKind::loss)
      throw ConfigError(fmt::format("'{}' is a {} plugin; gantry check checks loss plugins", target, to_string(lib.kind())));
    return lib;
  }
  registry.discover(Registry::search_path(global.plugin_paths));
  return registry.get(PluginKind::loss, target);
}

// One setting's report; a plugin that refuses to be built, or throws while checked, fails it.
LossCheckReport check_setting(const PluginLibrary& lib, const CheckSetting& setting) {
  LossCheckReport report;
  try {
    auto loss = instantiate<Loss>(PluginChoice{"loss", &lib, setting.params}, BuildContext{{1}, 0});
    return check_loss(*loss);
  } catch (const std::exception& e) {
    report.passed = false;
    report.lines.push_back(fmt::format("FAIL the loss threw: {}", e.what()));
    report.failed.push_back("exception");
  }
  return report;
}

// "gradient (G), sign (D)" for one setting; "sign (D) [defaults, weight=-1.0]" for several.
std::string failed_properties(const std::vector<CheckSetting>& settings, const std::vector<LossCheckReport>& reports) {
  std::vector<std::pair<std::string, std::vector<std::string>>> failed;  // property → settings, first seen first
  for (size_t i = 0; i < reports.size(); ++i)
    for (const std::string& property : reports[i].failed) {
      auto it = std::find_if(failed.begin(), failed.end(), [&](const auto& f) { return f.first == property; });
      if (it == failed.end()) it = failed.insert(failed.end(), {property, {}});
      it->second.push_back(settings[i].name);
    }
  std::vector<std::string> parts;
  for (const auto& [property, where] : failed)
    parts.push_back(settings.size() == 1 ? property : fmt::format("{} [{}]", property, fmt::join(where, ", ")));
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

void add_check_command(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("check", "check a loss plugin's gradients, finiteness and sign convention");
  auto target = std::make_shared<std::string>();
  auto sets = std::make_shared<std::vector<std::string>>();
  auto no_range_ends = std::make_shared<bool>(false);
  cmd->add_option("plugin", *target, "a loss plugin's name, or the path of its .so file")->required();
  cmd->add_option("--set", *sets, "check with a parameter set to a value, key=value (repeatable)")->type_name("KEY=VALUE");
  cmd->add_flag("--no-range-ends", *no_range_ends, "check only the defaults (with --set), not each numeric "
                                                   "parameter at the ends of its range");
  cmd->callback([&global, &result, target, sets, no_range_ends] {
    Registry registry;
    const PluginLibrary& lib = find_loss(registry, *target, global);
    const Params base = apply_sets(*lib.descriptor, *sets);
    const std::vector<CheckSetting> settings = check_settings(*lib.descriptor, base, *sets, !*no_range_ends);
    std::cout << fmt::format("loss {} {} ({})\n", lib.name(), lib.descriptor->version, lib.file.string());
    if (const auto unbounded = unbounded_parameters(*lib.descriptor, *sets); !unbounded.empty() && !*no_range_ends)
      std::cout << fmt::format("no range declared, so checked at one value only (try others with --set): {}\n",
                               fmt::join(unbounded, ", "));
    std::vector<LossCheckReport> reports;
    double worst_d = 0, worst_g = 0;
    bool passed = true;
    for (const CheckSetting& setting : settings) {
      reports.push_back(check_setting(lib, setting));
      const LossCheckReport& r = reports.back();
      std::cout << fmt::format("at {}{}:\n", setting.name == "defaults" ? "the defaults" : setting.name,
                               setting.why.empty() ? "" : fmt::format(" ({})", setting.why));
      for (const auto& line : r.lines) std::cout << "  " << line << "\n";
      worst_d = std::max(worst_d, r.worst_d_error);
      worst_g = std::max(worst_g, r.worst_g_error);
      passed = passed && r.passed;
    }
    if (passed)
      std::cout << fmt::format("passed: worst relative gradient error {:.2e} (D), {:.2e} (G){}\n", worst_d, worst_g,
                               settings.size() == 1 ? "" : fmt::format(" over {} settings", settings.size()));
    else
      std::cout << "FAILED: " << failed_properties(settings, reports) << "\n";
    result = passed ? ExitCode::ok : ExitCode::run_failed;
  });
}

}  // namespace gantry::cli
