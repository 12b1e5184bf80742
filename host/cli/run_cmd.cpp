// gantry run FILE: validate the experiment, then train and record every trial.
#include "cli/commands.hpp"
#include "config/experiment.hpp"
#include "registry/registry.hpp"
#include "run/runner.hpp"
#include "store/store.hpp"

#include <atomic>
#include <csignal>
#include <fmt/format.h>
#include <iostream>

namespace gantry::cli {

namespace {

std::atomic<bool> stop_requested{false};

extern "C" void on_sigint(int) {
  // First Ctrl-C: finish the current step and record the run as interrupted. Second: stop now.
  if (stop_requested.exchange(true)) std::_Exit(ExitCode::interrupted);
}

struct RunArgs {
  std::filesystem::path file;
  bool force = false;
  bool dry_run = false;
  int threads = 0;
};

void print_summary(const Experiment& exp, const RunSummary& summary, const std::string& db) {
  std::cout << fmt::format("\nexperiment '{}': {} run(s)\n", exp.name, summary.runs.size());
  for (const RunRecord& r : summary.runs) {
    std::cout << fmt::format("  run {} seed {}: {}{}\n", r.run_id, r.seed, to_string(r.status),
                             r.skipped ? " (earlier)" : "");
    if (!r.error.empty()) std::cout << fmt::format("    error: {}\n", r.error);
    for (const auto& [key, value] : r.final_metrics)
      if (!key.starts_with("loss.")) std::cout << fmt::format("    {:<28} {:.4g}\n", key, value);
  }
  std::cout << fmt::format("results: {} (try: sqlite3 {} 'SELECT * FROM run_overview')\n", db, db);
}

}  // namespace

void add_run_command(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("run", "validate an experiment file, then train and record its trials");
  auto args = std::make_shared<RunArgs>();
  cmd->add_option("file", args->file, "experiment TOML file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--db", global.db, "results database")->capture_default_str();
  cmd->add_flag("--force", args->force, "rerun trials that already completed");
  cmd->add_flag("--dry-run", args->dry_run, "print the trials and exit without training");
  cmd->add_option("--threads", args->threads, "oneDNN threads per trial (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&global, &result, args] {
    Registry registry;
    registry.discover(Registry::search_path(global.plugin_paths));
    for (const auto& w : registry.warnings()) std::cerr << "gantry: warning: " << w << "\n";
    // Validation comes first and throws ConfigError: a bad file never touches the database.
    const Experiment exp = load_experiment(args->file, registry);
    if (args->dry_run) {
      std::cout << fmt::format("experiment '{}': {} trial(s)\n{:>5}  {:>6}  {}\n", exp.name, exp.seeds.size(),
                               "trial", "seed", "identity");
      size_t i = 0;
      for (const TrialConfig& t : exp.trials())
        std::cout << fmt::format("{:>5}  {:>6}  {}\n", i++, t.seed, trial_identity(t).substr(0, 12));
      result = ExitCode::ok;
      return;
    }
    ResultStore store(global.db);
    std::signal(SIGINT, on_sigint);
    std::signal(SIGTERM, on_sigint);
    const RunSummary summary = run_experiment(exp, store, {args->force, args->threads}, std::cout, &stop_requested);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    print_summary(exp, summary, global.db);
    result = summary.interrupted ? ExitCode::interrupted : summary.any_failed() ? ExitCode::run_failed : ExitCode::ok;
  });
}

}  // namespace gantry::cli
