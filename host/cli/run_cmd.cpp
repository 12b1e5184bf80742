// gantry run FILE: validate the experiment, then train and record every trial.
#include "cli/commands.hpp"
#include "config/experiment.hpp"
#include "mpi/coordinator.hpp"
#include "mpi/mpi_transport.hpp"
#include "registry/registry.hpp"
#include "run/preflight.hpp"
#include "run/study_resources.hpp"
#include "run/runner.hpp"
#include "store/store.hpp"

#include <gantry/error.hpp>

#include <atomic>
#include <csignal>
#include <fmt/format.h>
#include <iostream>
#include <map>
#include <numeric>
#include <optional>

namespace gantry::cli {

namespace {

std::atomic<int> interrupts{0};

// Counts Ctrl-C: the scheduler stops gracefully at one and kills the workers at two.
extern "C" void on_interrupt(int) { interrupts.fetch_add(1); }

struct RunArgs {
  std::filesystem::path file;
  bool force = false;
  bool rerun_failed = true;
  bool dry_run = false;
  bool preflight = true;
  bool coordinator_trials = true;
  int jobs = 1;
  int threads = 0;
  double trial_timeout = -1;
  std::string progress = "auto";
  int64_t max_trials = static_cast<int64_t>(default_max_trials);  // signed: CLI11 wraps "-3" into a uint64_t
};

void print_trials(const Experiment& exp) {
  std::cout << fmt::format("experiment '{}': {} trial(s){}{}\n", exp.name, exp.trials.size(),
                           exp.sweep_columns.empty() ? "" : fmt::format(" ({} sweep)", exp.sweep_mode),
                           exp.duplicates ? fmt::format(", {} duplicate point(s) dropped", exp.duplicates) : "");
  std::vector<std::string> header{"trial"};
  header.insert(header.end(), exp.sweep_columns.begin(), exp.sweep_columns.end());
  header.insert(header.end(), {"seed", "identity"});
  std::vector<std::vector<std::string>> rows;
  for (const Trial& t : exp.trials) {
    std::vector<std::string> row{std::to_string(t.index)};
    row.insert(row.end(), t.swept.begin(), t.swept.end());
    row.push_back(std::to_string(t.config.seed));
    row.push_back(t.identity.substr(0, 12));
    rows.push_back(std::move(row));
  }
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t c = 0; c < r.size(); ++c) out += fmt::format("{:<{}}  ", r[c], width[c]);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::cout << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

void print_summary(const Experiment& exp, const RunSummary& summary, const std::string& db) {
  std::map<std::string, int> counts;
  for (const RunRecord& r : summary.runs) ++counts[to_string(r.status)];
  std::vector<std::string> parts;
  for (const auto& [status, n] : counts) parts.push_back(fmt::format("{} {}", n, status));
  std::cout << fmt::format("\nexperiment '{}': {} run(s): {}\n", exp.name, summary.runs.size(), fmt::join(parts, ", "));
  if (summary.runs.size() <= 12) {
    for (const RunRecord& r : summary.runs) {
      std::cout << fmt::format("  run {} seed {}: {}{}\n", r.run_id, r.seed, to_string(r.status),
                               r.owned_elsewhere ? " (by another gantry process)" : r.skipped ? " (earlier)" : "");
      if (!r.error.empty() && !r.owned_elsewhere) std::cout << fmt::format("    error: {}\n", r.error.substr(0, r.error.find('\n')));
      for (const auto& [key, value] : r.final_metrics)
        if (!key.starts_with("loss.")) std::cout << fmt::format("    {:<28} {:.4g}\n", key, value);
    }
  } else {
    std::cout << fmt::format("  see: gantry status {} --db {}\n", exp.name, db);
  }
  if (summary.interrupted) std::cout << "interrupted: run the same command again to resume\n";
  std::cout << fmt::format("wall {:.1f} s; scheduler CPU {:.2f} s ({:.2f}% of wall)\n", summary.wall_seconds,
                           summary.parent_cpu_seconds,
                           100.0 * summary.parent_cpu_seconds / std::max(1e-9, summary.wall_seconds));
  std::cout << fmt::format("results: {} (try: sqlite3 {} 'SELECT * FROM run_overview')\n", db, db);
}

// Problems that only show once plugins are built are configuration errors too: found here,
// before the database is opened, they stop the run with exit code 2 and nothing written.
void check_before_running(const Experiment& exp, int jobs) {
  PreflightOptions options;
  options.jobs = jobs;
  const PreflightReport report = preflight(exp, options);
  for (const auto& w : report.warnings) std::cerr << "gantry: warning: " << w << "\n";
  if (!report.problems.empty()) throw ConfigError(fmt::format("{}", fmt::join(report.problems, "\n")));
  if (report.rehearsed < report.configs)
    std::cerr << fmt::format("gantry: warning: checked {} of {} distinct configurations before running\n",
                             report.rehearsed, report.configs);
}

RunOptions run_options(const RunArgs& args) {
  RunOptions options;
  options.force = args.force;
  options.rerun_failed = args.rerun_failed;
  options.jobs = args.jobs;
  options.threads = args.threads;
  options.trial_timeout = args.trial_timeout;
  options.progress = args.progress == "live"    ? ProgressStyle::live
                     : args.progress == "plain" ? ProgressStyle::plain
                     : args.progress == "quiet" ? ProgressStyle::quiet
                                                : ProgressStyle::automatic;
  return options;
}

// Trains what the store does not have yet, through `transport` (null: local workers), and
// prints the summary. SIGTERM (kill, SLURM's time limit) and SIGHUP (a closed terminal) stop
// the sweep the way Ctrl-C does: running trials end after their step, or are killed after the
// grace period.
int train_and_report(const Experiment& exp, const RunArgs& args, GlobalOptions& global, ResultStore& store,
                     TrialTransport* transport) {
  interrupts = 0;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, on_interrupt);
  const RunSummary summary = run_experiment(exp, store, run_options(args), std::cout, &interrupts, transport);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, SIG_DFL);
  print_summary(exp, summary, global.db);
  return summary.interrupted ? ExitCode::interrupted : summary.any_failed() ? ExitCode::run_failed : ExitCode::ok;
}

int run_here(const RunArgs& args, GlobalOptions& global) {
  Registry registry;
  registry.discover(Registry::search_path(global.plugin_paths));
  for (const auto& w : registry.warnings()) std::cerr << "gantry: warning: " << w << "\n";
  // Validation comes first and throws ConfigError: a bad file never touches the database.
  const Experiment exp = load_experiment(args.file, registry, {static_cast<uint64_t>(args.max_trials)});
  if (args.preflight) check_before_running(exp, args.jobs);
  if (args.dry_run) {
    print_trials(exp);
    return ExitCode::ok;
  }
  ResultStore store(global.db);
  prepare_study_resources(exp, store, std::cout);
  return train_and_report(exp, args, global, store, nullptr);
}

// One rank of `mpirun gantry run` / `srun gantry run`: every rank loads the file itself; rank 0
// checks that all resolved the same plugins and trials, then does what run_here does, its
// trials spread over every rank's workers (docs/ARCHITECTURE.md, "Beyond one machine").
int run_distributed(const RunArgs& args, GlobalOptions& global) {
  const auto comm = MpiComm::open();
  Registry registry;
  std::optional<Experiment> exp;
  std::string error;
  try {
    registry.discover(Registry::search_path(global.plugin_paths));
    exp.emplace(load_experiment(args.file, registry, {static_cast<uint64_t>(args.max_trials)}));
  } catch (const std::exception& e) {
    if (comm->rank() == 0) {
      Coordinator(*comm).quit(2);
      throw;
    }
    error = e.what();
  }
  // The other ranks never write: their warnings and errors reach the user through rank 0.
  if (comm->rank() != 0) return worker_rank_main(*comm, args.jobs, exp ? &*exp : nullptr, error);
  for (const auto& w : registry.warnings()) std::cerr << "gantry: warning: " << w << "\n";
  Coordinator coordinator(*comm);
  const int own_slots = args.coordinator_trials ? args.jobs : 0;
  const Coordinator::Ranks ranks = coordinator.check_ranks(describe_rank(0, args.jobs, &*exp, ""), own_slots);
  if (args.preflight) check_before_running(*exp, args.jobs);
  if (args.dry_run) {
    print_trials(*exp);
    coordinator.quit(ExitCode::ok);
    return ExitCode::ok;
  }
  ResultStore store(global.db);
  const std::vector<FeatureNetwork> networks = prepare_study_resources(*exp, store, std::cout);
  std::cout << fmt::format("{} MPI ranks run up to {} trial(s) at once\n", comm->size(),
                           std::accumulate(ranks.slots.begin(), ranks.slots.end(), 0));
  MpiTransport transport(*comm, *exp, ranks.slots, ranks.hosts);
  coordinator.start(networks);
  const int code = train_and_report(*exp, args, global, store, &transport);
  coordinator.finish();
  return code;
}

}  // namespace

void add_run_command(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("run", "validate an experiment file, then train and record its trials");
  auto args = std::make_shared<RunArgs>();
  cmd->add_option("file", args->file, "experiment TOML file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--db", global.db, "results database")->capture_default_str();
  cmd->add_option("-j,--jobs", args->jobs, "trials to run at once, each in its own process")
      ->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--threads", args->threads, "oneDNN threads per trial (default: cores / jobs)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--trial-timeout", args->trial_timeout, "seconds a trial may take (overrides experiment.timeout; 0 = none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-trials", args->max_trials,
                  "refuse an experiment with more trials (sweep points × seeds), counted before anything is expanded")
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()))->capture_default_str();
  cmd->add_flag("--force", args->force, "rerun trials that already completed");
  cmd->add_flag("--rerun-failed,!--no-rerun-failed", args->rerun_failed,
                "rerun trials that failed or diverged before (default: yes)");
  cmd->add_flag("--dry-run", args->dry_run, "print the trial table and exit without training");
  cmd->add_flag("--preflight,!--no-preflight", args->preflight,
                "build each distinct configuration once and take one step before anything is written (default: yes)");
  cmd->add_option("--progress", args->progress, "progress display")
      ->check(CLI::IsMember({"auto", "live", "plain", "quiet"}))->capture_default_str();
  cmd->add_flag("--coordinator-trials,!--no-coordinator-trials", args->coordinator_trials,
                "under mpirun/srun: rank 0 runs --jobs trials too, besides coordinating (default: yes)");
  cmd->callback([&global, &result, args] {
    if (detect_launch()) result = run_distributed(*args, global);
    else result = run_here(*args, global);
  });
}

}  // namespace gantry::cli
