#pragma once
#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace gantry::cli {

/// Options every command shares.
struct GlobalOptions {
  std::vector<std::filesystem::path> plugin_paths;
  std::string db = "results/gantry.db";
};

/// Exit codes: 0 success, 1 a run failed, 2 usage or configuration error, 130 interrupted.
enum ExitCode : int { ok = 0, run_failed = 1, usage = 2, interrupted = 130 };

/// Adds `gantry plugins`; its callback stores the exit code in `result`.
void add_plugins_command(CLI::App& app, GlobalOptions& global, int& result);
/// Adds `gantry run`.
void add_run_command(CLI::App& app, GlobalOptions& global, int& result);
/// Adds `gantry check`.
void add_check_command(CLI::App& app, GlobalOptions& global, int& result);
/// Adds `gantry new`.
void add_new_command(CLI::App& app, GlobalOptions& global, int& result);
/// Adds `gantry compare`, `query`, `export`, `runs`, `show` and `samples`.
void add_results_commands(CLI::App& app, GlobalOptions& global, int& result);
/// Adds `gantry plot` and `gantry report`.
void add_report_commands(CLI::App& app, GlobalOptions& global, int& result);
/// Adds `gantry status`.
void add_status_command(CLI::App& app, GlobalOptions& global, int& result);
/// Adds `gantry slurm`.
void add_slurm_command(CLI::App& app, GlobalOptions& global, int& result);
/// Adds `gantry merge`.
void add_merge_command(CLI::App& app, GlobalOptions& global, int& result);
/// Adds `gantry bench step|eval|peak`.
void add_bench_command(CLI::App& app, GlobalOptions& global, int& result);
/// Adds `gantry serve`.
void add_serve_command(CLI::App& app, GlobalOptions& global, int& result);
/// Adds `gantry classifier train|info`.
void add_classifier_command(CLI::App& app, GlobalOptions& global, int& result);

/// Adds `gantry generate`.
void add_generate_command(CLI::App& app, GlobalOptions& global, int& result);
/// Adds `gantry evaluate`.
void add_evaluate_command(CLI::App& app, GlobalOptions& global, int& result);

/// Adds --all-builds to a command that reads results (runs, compare, plot, report, status): runs of
/// superseded plugin builds are left out unless it is given.
void add_all_builds_flag(CLI::App* cmd, bool& all_builds);

/// Builds the full command line and runs it; returns the exit code. Errors are printed as
/// "gantry: error: ..." here, in one place.
int main(int argc, char** argv);

}  // namespace gantry::cli
