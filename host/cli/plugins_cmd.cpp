// gantry plugins: every plugin with its parameters, like gst-inspect.
#include "cli/commands.hpp"
#include "registry/registry.hpp"

#include <fmt/format.h>
#include <iostream>

namespace gantry::cli {
namespace {

// In declared order (the order of the values), the primary key marked.
void print_metric_keys(const PluginDescriptor& d) {
  if (d.metric_keys.empty()) return;
  std::cout << "  keys (* = primary, the one compare and report use by default):\n";
  for (const MetricKey& k : d.metric_keys)
    std::cout << fmt::format("  {} {:<14} {:<17} {}\n", k.name == d.primary_key ? '*' : ' ', k.name,
                             k.direction == Direction::higher_is_better ? "higher is better" : "lower is better", k.doc);
}

}  // namespace

void add_plugins_command(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("plugins", "list the plugins gantry finds, with their parameters");
  auto kind = std::make_shared<std::string>();
  cmd->add_option("--kind", *kind, "only this kind")
      ->check(CLI::IsMember({"data", "generator", "discriminator", "loss", "metric"}));
  cmd->callback([&global, &result, kind] {
    Registry registry;
    registry.discover(Registry::search_path(global.plugin_paths));
    for (const auto& w : registry.warnings()) std::cerr << "gantry: warning: " << w << "\n";
    bool first = true;
    for (PluginKind k : {PluginKind::data, PluginKind::generator, PluginKind::discriminator, PluginKind::loss,
                         PluginKind::metric}) {
      if (!kind->empty() && *kind != to_string(k)) continue;
      for (const std::string& name : registry.names(k)) {
        const PluginLibrary& lib = *registry.find(k, name);
        const PluginDescriptor& d = *lib.descriptor;
        if (!first) std::cout << "\n";
        first = false;
        std::cout << fmt::format("{} {} {}\n  {}\n  file: {}\n", to_string(k), d.name, d.version, d.description,
                                 lib.file.string());
        if (d.params.empty()) std::cout << "  (no parameters)\n";
        for (const ParamSpec& p : d.params) {
          const std::string range = constraint_text(p);
          std::cout << fmt::format("  {:<14} {:<16} default {}{}\n  {:<14} {}\n", p.name, type_name(p.type),
                                   to_string(p.default_value), range.empty() ? "" : ", " + range, "", p.doc);
        }
        print_metric_keys(d);
      }
    }
    result = ExitCode::ok;
  });
}

}  // namespace gantry::cli
