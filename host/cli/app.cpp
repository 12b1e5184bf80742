#include "cli/commands.hpp"

#include <gantry/engine.hpp>
#include <gantry/error.hpp>
#include <gantry/plugin.hpp>

#include <fmt/format.h>
#include <iostream>

namespace gantry::cli {

namespace {

// One "gantry: error:" line per problem, so a multi-problem report reads like a compiler's.
void print_error(std::string_view what) {
  while (!what.empty()) {
    const size_t nl = what.find('\n');
    std::cerr << "gantry: error: " << what.substr(0, nl) << "\n";
    if (nl == std::string_view::npos) break;
    what.remove_prefix(nl + 1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gantry: a workbench for adversarial training (GAN) research"};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("gantry {} (plugin ABI {}, {})", version(), abi_version, compiler()));
  GlobalOptions global;
  app.add_option("--plugin-path", global.plugin_paths, "extra folder to search for plugins (repeatable)")
      ->type_name("DIR");
  int result = ExitCode::ok;
  add_plugins_command(app, global, result);
  add_run_command(app, global, result);
  add_status_command(app, global, result);
  add_check_command(app, global, result);
  add_new_command(app, global, result);
  add_results_commands(app, global, result);
  add_report_commands(app, global, result);
  add_classifier_command(app, global, result);
  add_slurm_command(app, global, result);
  add_merge_command(app, global, result);
  add_bench_command(app, global, result);
  add_generate_command(app, global, result);
  add_evaluate_command(app, global, result);
  add_serve_command(app, global, result);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? ExitCode::ok : ExitCode::usage;
  } catch (const ConfigError& e) {
    print_error(e.what());
    return ExitCode::usage;
  } catch (const std::exception& e) {
    print_error(e.what());
    return ExitCode::run_failed;
  }
  return result;
}

}  // namespace gantry::cli
