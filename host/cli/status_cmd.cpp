// gantry status [EXPERIMENT]: counts by status, and why the runs that did not complete stopped.
#include "cli/commands.hpp"
#include "results/query.hpp"
#include "run/runner.hpp"
#include "store/store.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <iostream>
#include <map>
#include <set>

namespace gantry::cli {

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
