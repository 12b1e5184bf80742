// gantry status [EXPERIMENT]: counts by status, and why the runs that did not complete stopped.
#include "cli/commands.hpp"
#include "results/query.hpp"
#include "results/table.hpp"
#include "run/runner.hpp"
#include "store/store.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

namespace gantry::cli {

namespace {

// Seconds of trial time in the unit that reads best: "42 s", "7.5 min", "3.2 h".
std::string trial_time(double seconds) {
  if (seconds < 60) return fmt::format("{:.0f} s", seconds);
  if (seconds < 3600) return fmt::format("{:.1f} min", seconds / 60);
  return fmt::format("{:.1f} h", seconds / 3600);
}

// Where the experiment's trials ran, for one spread over machines or MPI ranks: a row per machine
// with its ranks, its runs by status and the trial time it gave. Nothing for a local run on one host.
void print_hosts(Database& db, int64_t experiment, const std::function<bool(int64_t)>& shown) {
  auto st = db.prepare(
      "SELECT id, COALESCE(worker_host, host, '?'), worker_rank, status, COALESCE(wall_seconds, 0) FROM runs "
      "WHERE experiment_id = ?1");
  st.bind(1, experiment);
  struct Host {
    std::set<int64_t> ranks;
    std::map<std::string, int64_t> counts;
    double seconds = 0;
  };
  std::map<std::string, Host> hosts;
  bool ranked = false;
  while (st.step()) {
    if (!shown(st.column_int(0))) continue;
    Host& h = hosts[st.column_text(1)];
    if (!st.column_is_null(2)) h.ranks.insert(st.column_int(2)), ranked = true;
    ++h.counts[st.column_text(3)];
    h.seconds += st.column_double(4);
  }
  if (hosts.size() < 2 && !ranked) return;
  Table table;
  table.columns = {"host", "ranks"};
  const char* statuses[] = {"completed", "running", "interrupted", "failed", "diverged", "queued"};
  std::vector<std::string> present;
  for (const char* status : statuses)
    for (const auto& [name, h] : hosts)
      if (h.counts.contains(status)) {
        present.push_back(status);
        break;
      }
  for (const std::string& status : present) table.columns.push_back(status);
  table.columns.push_back("trial time");
  for (const auto& [name, h] : hosts) {
    std::vector<std::string> row{name, h.ranks.empty() ? "-" : fmt::format("{}", fmt::join(h.ranks, ","))};
    for (const std::string& status : present)
      row.push_back(std::to_string(h.counts.contains(status) ? h.counts.at(status) : 0));
    row.push_back(trial_time(h.seconds));
    table.rows.push_back(std::move(row));
  }
  std::ostringstream out;
  write_table(out, table, Format::table);
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) std::cout << "  " << line << "\n";
}

}  // namespace

void add_status_command(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("status", "show how the runs of each experiment stand");
  auto name = std::make_shared<std::string>();
  auto all_builds = std::make_shared<bool>(false);
  cmd->add_option("experiment", *name, "only this experiment");
  add_all_builds_flag(cmd, *all_builds);
  cmd->add_option("--db", global.db, "results database")->capture_default_str();
  cmd->callback([&global, &result, name, all_builds] {
    Database db = open_results(global.db);
    auto experiments = db.prepare("SELECT id, name FROM experiments WHERE ?1 = '' OR name = ?1 ORDER BY id");
    experiments.bind(1, *name);
    bool any = false;
    while (experiments.step()) {
      any = true;
      const int64_t id = experiments.column_int(0);
      const std::set<int64_t> superseded = superseded_runs(db, id);
      const auto shown = [&](int64_t run) { return *all_builds || !superseded.contains(run); };
      auto runs = db.prepare("SELECT id, status FROM runs WHERE experiment_id = ?1");
      runs.bind(1, id);
      std::map<std::string, int64_t> counts;
      int64_t total = 0;
      while (runs.step())
        if (shown(runs.column_int(0))) ++counts[runs.column_text(1)], ++total;
      std::vector<std::string> parts;
      for (const auto& [status, n] : counts) parts.push_back(fmt::format("{} {}", n, status));
      std::cout << fmt::format("{}: {} run(s){}{}\n", experiments.column_text(1), total, parts.empty() ? "" : ": ",
                               fmt::join(parts, ", "));
      print_hosts(db, id, shown);
      auto bad = db.prepare(
          "SELECT id, seed, status, step, steps, COALESCE(error, ''), pid, COALESCE(host, '') FROM runs "
          "WHERE experiment_id = ?1 AND status NOT IN ('completed') ORDER BY id");
      bad.bind(1, id);
      while (bad.step()) {
        if (!shown(bad.column_int(0))) continue;
        std::string error = bad.column_text(5);
        if (bad.column_text(2) == "running" && !run_owner_alive(bad.column_int(6), bad.column_text(7)))
          error = "stale: the gantry running it is gone; the next 'gantry run' marks it interrupted and reruns it";
        std::cout << fmt::format("  run {} seed {}: {} at step {}/{}{}\n", bad.column_int(0), bad.column_int(1),
                                 bad.column_text(2), bad.column_int(3), bad.column_int(4),
                                 error.empty() ? "" : ": " + error.substr(0, error.find('\n')));
      }
      if (const std::string note = superseded_note(superseded.size(), *all_builds); !note.empty())
        std::cout << "  " << note << "\n";
    }
    if (!any && !name->empty()) throw ConfigError(fmt::format("no experiment named '{}' in {}", *name, global.db));
    result = ExitCode::ok;
  });
}

}  // namespace gantry::cli
