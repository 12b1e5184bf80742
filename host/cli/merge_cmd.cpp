// gantry merge A.db B.db ... -o OUT.db: results produced apart, in one database.
#include "cli/commands.hpp"
#include "store/merge.hpp"

#include <fmt/format.h>
#include <iostream>

namespace gantry::cli {

namespace {

void print(const MergeReport& report, const std::filesystem::path& out) {
  for (const MergedInput& in : report.inputs) {
    std::cout << fmt::format("{}: {} experiment(s) added; runs: {} added, {} replaced a less finished one, {} already "
                             "there as finished or more",
                             in.file.string(), in.experiments_added, in.runs_added, in.runs_replaced, in.runs_kept);
    if (in.runs_unfinished > 0) std::cout << fmt::format("; {} unfinished, recorded interrupted", in.runs_unfinished);
    if (in.checkpoints > 0) std::cout << fmt::format("; {} checkpoint file(s) copied", in.checkpoints);
    std::cout << "\n";
  }
  for (const std::string& w : report.warnings) std::cout << "warning: " << w << "\n";
  for (const std::string& c : report.conflicts) std::cout << "conflict: " << c << "\n";
  std::cout << fmt::format("merged into {}{}\n", out.string(),
                           report.conflicts.empty() ? "" : fmt::format(" with {} conflict(s)", report.conflicts.size()));
}

}  // namespace

void add_merge_command(CLI::App& app, GlobalOptions&, int& result) {
  auto* cmd = app.add_subcommand("merge", "merge results databases made apart into one, by run identity");
  auto inputs = std::make_shared<std::vector<std::filesystem::path>>();
  auto out = std::make_shared<std::filesystem::path>();
  auto strict = std::make_shared<bool>(false);
  cmd->add_option("inputs", *inputs, "the databases to merge (only read)")->required();
  cmd->add_option("-o,--output", *out, "the database to merge into (created if missing; may hold results already)")
      ->required();
  cmd->add_flag("--strict", *strict, "exit with 1 when any result conflicts (the merge still lands)");
  cmd->footer(
      "Experiments match by name, runs by identity: a completed run is never duplicated. Of two runs of one\n"
      "identity the more finished one stays; two completed ones are joined, every metric, picture and note\n"
      "kept. Checkpoint files beside each input are copied beside the output.");
  cmd->callback([&result, inputs, out, strict] {
    const MergeReport report = merge_databases(*out, *inputs);
    print(report, *out);
    result = *strict && !report.conflicts.empty() ? ExitCode::run_failed : ExitCode::ok;
  });
}

}  // namespace gantry::cli
