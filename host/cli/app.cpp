#include "cli/commands.hpp"

#include <gantry/engine.hpp>
#include <gantry/error.hpp>
#include <gantry/plugin.hpp>

#include <fmt/format.h>
#include <iostream>

namespace gantry::cli {

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? ExitCode::ok : ExitCode::usage;
  } catch (const ConfigError& e) {
    std::cerr << "gantry: error: " << e.what() << "\n";
    return ExitCode::usage;
  } catch (const std::exception& e) {
    std::cerr << "gantry: error: " << e.what() << "\n";
    return ExitCode::run_failed;
  }
  return result;
}

}  // namespace gantry::cli
