// Pictures of results: gantry plot (curves as PNG) and gantry report (one HTML page).
#include "cli/commands.hpp"
#include "results/compare.hpp"
#include "results/query.hpp"
#include "results/report.hpp"
#include "results/table.hpp"
#include "store/store.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <iostream>

namespace gantry::cli {

namespace {
// Whole or not at all (results/table.hpp's OutputFile): a failed write leaves an earlier file as it was.
void write_file(const std::string& path, const std::string& bytes) {
  OutputFile out(path);
  out.stream() << bytes;
  out.commit();
  std::cout << fmt::format("wrote {} ({} bytes)\n", path, bytes.size());
}

void print_superseded_note(Database& db, const std::string& experiment, bool all_builds) {
  const std::string note = superseded_note(superseded_runs(db, experiment_id(db, experiment)).size(), all_builds);
  if (!note.empty()) std::cout << note << "\n";
}
}  // namespace

void add_report_commands(CLI::App& app, GlobalOptions& global, int& result) {
  {
    auto* cmd = app.add_subcommand("plot", "curves of a metric over steps, one line per group, ± std (or standard error) over seeds");
    struct Args {
      std::string experiment, metric, output, error = "std";
      std::vector<std::string> by;
      bool all_builds = false;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("experiment", a->experiment, "experiment name")->required();
    cmd->add_option("--metric", a->metric, "metric key (default: the primary key of the experiment's first metric)");
    cmd->add_option("--by", a->by, "parameter to group by (repeatable; default: the experiment's swept parameters)");
    cmd->add_option("-o,--output", a->output, "PNG file to write")->required();
    cmd->add_option("--error", a->error, "the band: std (the seeds' standard deviation) or se (standard error of the mean)")
        ->check(CLI::IsMember({"std", "se"}))
        ->capture_default_str();
    add_all_builds_flag(cmd, a->all_builds);
    cmd->add_option("--db", global.db, "results database")->capture_default_str();
    cmd->callback([&global, &result, a] {
      Database db = open_results(global.db);
      write_file(a->output, plot_metric(db, a->experiment, a->metric, a->by, a->all_builds, parse_spread(a->error)));
      print_superseded_note(db, a->experiment, a->all_builds);
      result = ExitCode::ok;
    });
  }
  {
    auto* cmd = app.add_subcommand("report", "one self-contained HTML page: comparisons, curves and samples");
    struct Args {
      std::string experiment, metric, output;
      bool all_builds = false;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("experiment", a->experiment, "experiment name")->required();
    cmd->add_option("--metric", a->metric,
                    "metric that picks each group's best run for the samples (default: the primary key of the "
                    "experiment's first metric)");
    cmd->add_option("-o,--output", a->output, "HTML file to write")->required();
    add_all_builds_flag(cmd, a->all_builds);
    cmd->add_option("--db", global.db, "results database")->capture_default_str();
    cmd->callback([&global, &result, a] {
      Database db = open_results(global.db);
      write_file(a->output, html_report(db, a->experiment, a->metric, a->all_builds));
      print_superseded_note(db, a->experiment, a->all_builds);
      result = ExitCode::ok;
    });
  }
}

}  // namespace gantry::cli
