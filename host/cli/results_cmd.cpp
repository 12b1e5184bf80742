// Reading results: gantry compare, query, export, runs, show, samples.
#include "cli/commands.hpp"
#include "results/compare.hpp"
#include "results/query.hpp"
#include "results/summary.hpp"
#include "results/table.hpp"
#include "store/checkpoints.hpp"
#include "store/store.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <iostream>
#include <map>
#include <set>

namespace gantry::cli {

namespace {

void add_format_option(CLI::App* cmd, std::string& format, std::vector<std::string> allowed) {
  cmd->add_option("--format", format, "output format")->check(CLI::IsMember(allowed))->capture_default_str();
}

// The superseded-builds line goes with the table, or to standard error when the output is data.
void print_superseded_note(size_t superseded, bool all_builds, bool prose) {
  const std::string note = superseded_note(superseded, all_builds);
  if (!note.empty()) (prose ? std::cout : std::cerr) << note << "\n";
}

// One metric: the ranking with every statistic. Several: a paper's table, a "mean ± error" cell
// per metric, ranked by the first.
void print_comparison(Database& db, CompareOptions o, const std::vector<std::string>& metrics, Format f) {
  const bool prose = f == Format::table || f == Format::markdown;
  if (metrics.size() < 2) {
    if (!metrics.empty()) o.metric = metrics.front();
    const Comparison c = compare_runs(db, o);
    if (prose) std::cout << comparison_heading(c) << "\n";
    write_table(std::cout, comparison_table(c, f), f);
    if (prose)
      for (const std::string& line : comparison_footer(c)) std::cout << line << "\n";
    print_superseded_note(c.superseded, o.all_builds, prose);
    return;
  }
  std::vector<Comparison> per_metric;
  for (const std::string& metric : metrics) {
    o.metric = metric;
    per_metric.push_back(compare_runs(db, o));
  }
  if (prose) std::cout << summary_heading(per_metric) << "\n";
  write_table(std::cout, summary_table(per_metric, f), f);
  if (prose)
    for (const std::string& line : comparison_footer(per_metric.front())) std::cout << line << "\n";
  print_superseded_note(per_metric.front().superseded, o.all_builds, prose);
}

void add_compare(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("compare", "rank settings by a metric over seeds: n, mean, std, min, max");
  auto o = std::make_shared<CompareOptions>();
  auto metrics = std::make_shared<std::vector<std::string>>();
  auto format = std::make_shared<std::string>("table");
  auto spread = std::make_shared<std::string>("std");
  cmd->add_option("experiment", o->experiments, "experiment name (several: compared side by side)")->required();
  cmd->add_option("--metric", *metrics,
                  "metric key, e.g. modes.high_quality (default: the primary key of the first experiment's first "
                  "metric); several: a paper's table, one mean ± error column each, ranked by the first");
  cmd->add_option("--by", o->by, "parameter to group by (repeatable; default: the experiments' swept parameters)");
  cmd->add_option("--at", o->at, "final, best, or a step number")->capture_default_str();
  cmd->add_option("--error", *spread, "the ± shown: std (the seeds' standard deviation) or se (standard error of the mean)")
      ->check(CLI::IsMember({"std", "se"}))
      ->capture_default_str();
  cmd->add_option("--versus", o->versus,
                  "KEY=VALUE naming the group every other is tested against, e.g. loss.plugin=nonsaturating "
                  "(repeatable, to name one group; default: the best)");
  add_all_builds_flag(cmd, o->all_builds);
  add_format_option(cmd, *format, {"table", "csv", "json", "markdown"});
  cmd->add_option("--db", global.db, "results database")->capture_default_str();
  cmd->callback([&global, &result, o, metrics, format, spread] {
    Database db = open_results(global.db);
    o->spread = parse_spread(*spread);
    print_comparison(db, *o, *metrics, parse_format(*format));
    result = ExitCode::ok;
  });
}

void add_query(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("query", "run one read-only SQL statement against the results database");
  auto sql = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("table");
  cmd->add_option("sql", *sql, "the statement, e.g. \"SELECT * FROM run_overview\"")->required();
  add_format_option(cmd, *format, {"table", "csv", "json", "markdown"});
  cmd->add_option("--db", global.db, "results database")->capture_default_str();
  cmd->callback([&global, &result, sql, format] {
    write_table(std::cout, run_query(global.db, *sql), parse_format(*format));
    result = ExitCode::ok;
  });
}

void add_export(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("export", "write an experiment's metrics in long form, with params and seed");
  auto experiment = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("csv");
  auto output = std::make_shared<std::string>();
  cmd->add_option("experiment", *experiment, "experiment name")->required();
  add_format_option(cmd, *format, {"csv", "json"});
  cmd->add_option("-o,--output", *output, "file to write (default: standard output)");
  cmd->add_option("--db", global.db, "results database")->capture_default_str();
  cmd->callback([&global, &result, experiment, format, output] {
    Database db = open_results(global.db);
    if (output->empty()) {
      export_metrics(db, *experiment, parse_format(*format), std::cout);
    } else {
      // Whole or not at all: an unknown experiment or a full disk leaves no partial file.
      OutputFile out(*output);
      const int64_t n = export_metrics(db, *experiment, parse_format(*format), out.stream());
      out.commit();
      std::cerr << fmt::format("wrote {} rows to {}\n", n, *output);
    }
    result = ExitCode::ok;
  });
}

// The runs table: status, the swept parameters, seed, step and (for one experiment) the final
// value of every metric but the losses. Runs in `superseded` are left out, or with `all_builds`
// marked in a column of their own.
Table runs_table(Database& db, const std::string& experiment, const std::set<int64_t>& superseded, bool all_builds) {
  std::vector<std::string> swept, metric_keys;
  int64_t exp = 0;
  if (!experiment.empty()) {
    exp = experiment_id(db, experiment);
    swept = experiment_layout(db, {exp, experiment}).sweep;
    auto keys = db.prepare(
        "SELECT DISTINCT f.key FROM final_metrics f JOIN runs r ON r.id = f.run_id "
        "WHERE r.experiment_id = ?1 AND f.key NOT LIKE 'loss.%' ORDER BY 1");
    keys.bind(1, exp);
    while (keys.step()) metric_keys.push_back(keys.column_text(0));
  }
  Table t;
  t.columns = {"run", "experiment", "status"};
  t.columns.insert(t.columns.end(), swept.begin(), swept.end());
  t.columns.insert(t.columns.end(), {"seed", "step"});
  t.columns.insert(t.columns.end(), metric_keys.begin(), metric_keys.end());
  t.numeric.assign(t.columns.size(), false);
  t.numeric[0] = true;
  for (size_t i = t.columns.size() - metric_keys.size() - 2; i < t.columns.size(); ++i) t.numeric[i] = true;
  if (all_builds) t.columns.push_back("build"), t.numeric.push_back(false);
  auto runs = db.prepare(
      "SELECT r.id, e.name, r.status, r.seed, r.step FROM runs r JOIN experiments e ON e.id = r.experiment_id "
      "WHERE ?1 = 0 OR r.experiment_id = ?1 ORDER BY r.id");
  runs.bind(1, exp);
  auto param = db.prepare("SELECT value FROM params WHERE run_id = ?1 AND key = ?2");
  auto metric = db.prepare("SELECT value FROM final_metrics WHERE run_id = ?1 AND key = ?2");
  while (runs.step()) {
    const int64_t id = runs.column_int(0);
    if (!all_builds && superseded.contains(id)) continue;
    std::vector<std::string> row{std::to_string(id), runs.column_text(1), runs.column_text(2)};
    for (const auto& k : swept) {
      param.bind(1, id).bind(2, k);
      row.push_back(param.step() ? param.column_text(0) : std::string(absent_cell));
      param.reset();
    }
    row.push_back(std::to_string(runs.column_int(3)));
    row.push_back(std::to_string(runs.column_int(4)));
    for (const auto& k : metric_keys) {
      metric.bind(1, id).bind(2, k);
      row.push_back(metric.step() && !metric.column_is_null(0) ? fmt::format("{:.4g}", metric.column_double(0)) : "");
      metric.reset();
    }
    if (all_builds) row.push_back(superseded.contains(id) ? "superseded" : "current");
    t.rows.push_back(std::move(row));
  }
  return t;
}

void add_runs(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("runs", "list runs: status, swept values, seed and final metrics");
  auto experiment = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("table");
  auto all_builds = std::make_shared<bool>(false);
  cmd->add_option("experiment", *experiment, "only this experiment");
  add_all_builds_flag(cmd, *all_builds);
  add_format_option(cmd, *format, {"table", "csv", "json", "markdown"});
  cmd->add_option("--db", global.db, "results database")->capture_default_str();
  cmd->callback([&global, &result, experiment, format, all_builds] {
    Database db = open_results(global.db);
    const std::set<int64_t> superseded = superseded_runs(db, experiment->empty() ? 0 : experiment_id(db, *experiment));
    const Format f = parse_format(*format);
    write_table(std::cout, runs_table(db, *experiment, superseded, *all_builds), f);
    print_superseded_note(superseded.size(), *all_builds, f == Format::table || f == Format::markdown);
    result = ExitCode::ok;
  });
}

// The first lines of `gantry show`: experiment, seed, outcome and where and how the run ran.
void print_run_header(Database& db, int64_t run, const std::string& db_path) {
  auto r = db.prepare(
      "SELECT e.name, r.seed, r.status, COALESCE(r.error, ''), r.step, r.steps, r.identity, "
      "COALESCE(r.started_at, ''), COALESCE(r.finished_at, ''), COALESCE(r.wall_seconds, 0), "
      "COALESCE(r.host, ''), COALESCE(r.threads, 0), COALESCE(r.gantry_version, ''), "
      "COALESCE(r.compiler, ''), COALESCE(r.onednn_version, '') "
      "FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?1");
  r.bind(1, run);
  if (!r.step()) throw ConfigError(fmt::format("no run {} in {}", run, db_path));
  std::cout << fmt::format("run {} of experiment '{}', seed {}: {} at step {}/{}\n", run, r.column_text(0),
                           r.column_int(1), r.column_text(2), r.column_int(4), r.column_int(5));
  if (!r.column_text(3).empty()) std::cout << fmt::format("error: {}\n", r.column_text(3));
  std::cout << fmt::format("identity {}\nstarted {}, finished {}, {:.1f} s on {} ({} threads)\n"
                           "gantry {}, {}, oneDNN {}\n",
                           r.column_text(6), r.column_text(7), r.column_text(8), r.column_double(9),
                           r.column_text(10), r.column_int(11), r.column_text(12), r.column_text(13),
                           r.column_text(14));
}

// The run's config, plugin files and measurement notes.
void print_run_provenance(Database& db, int64_t run) {
  std::cout << "\nconfig:\n";
  auto p = db.prepare("SELECT key, value FROM params WHERE run_id = ?1 ORDER BY key");
  p.bind(1, run);
  while (p.step()) std::cout << fmt::format("  {:<32} {}\n", p.column_text(0), p.column_text(1));
  std::cout << "\nplugins:\n";
  auto pl = db.prepare("SELECT section, name, version, file, sha256 FROM plugins WHERE run_id = ?1 ORDER BY section");
  pl.bind(1, run);
  while (pl.step())
    std::cout << fmt::format("  {:<22} {} {}  {}  sha256 {}\n", pl.column_text(0), pl.column_text(1),
                             pl.column_text(2), pl.column_text(3), pl.column_text(4).substr(0, 16));
  if (!db.table_exists("run_notes")) return;
  auto nt = db.prepare("SELECT key, value FROM run_notes WHERE run_id = ?1 ORDER BY key");
  nt.bind(1, run);
  bool first = true;
  while (nt.step()) {
    if (first) std::cout << "\nmeasured with:\n";
    first = false;
    std::cout << fmt::format("  {:<32} {}\n", nt.column_text(0), nt.column_text(1));
  }
}

void print_run_curves(Database& db, int64_t run) {
  std::cout << "\ncurves (step: value):\n";
  auto m = db.prepare("SELECT key, step, value FROM metrics WHERE run_id = ?1 ORDER BY key, step");
  m.bind(1, run);
  std::map<std::string, std::vector<std::pair<int64_t, std::string>>> curves;
  while (m.step())
    curves[m.column_text(0)].emplace_back(m.column_int(1),
                                          m.column_is_null(2) ? "NaN" : fmt::format("{:.4g}", m.column_double(2)));
  for (const auto& [key, points] : curves) {
    // At most 12 points per curve, evenly spaced, always keeping the last.
    std::vector<std::string> shown;
    const size_t stride = std::max<size_t>(1, (points.size() + 11) / 12);
    for (size_t i = 0; i < points.size(); i += stride) shown.push_back(fmt::format("{}: {}", points[i].first, points[i].second));
    if ((points.size() - 1) % stride != 0)
      shown.push_back(fmt::format("{}: {}", points.back().first, points.back().second));
    std::cout << fmt::format("  {}\n    {}\n", key, fmt::join(shown, "  "));
  }
}

// The run's checkpoints, newest first, with where they are and whether the file is still there.
void print_run_checkpoints(Database& db, int64_t run, const std::string& db_path) {
  if (!db.table_exists("checkpoints")) return;  // a database before schema 8
  const auto rows = run_checkpoints(db, run);
  if (rows.empty()) return;
  const auto root = checkpoint_root(db_path);
  std::cout << fmt::format("\ncheckpoints (in {}):\n", root.string());
  for (const CheckpointRow& c : rows) {
    std::error_code ec;
    const bool there = std::filesystem::exists(root / c.file, ec);
    std::cout << fmt::format("  step {:<10} {:>12} bytes  sha256 {}  {}{}\n", c.step, c.bytes, c.sha256, c.file,
                             there ? "" : "  (file missing)");
  }
}

void add_show(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("show", "one run: config, provenance, status and metric curves");
  auto run = std::make_shared<int64_t>(0);
  cmd->add_option("run", *run, "run id")->required();
  cmd->add_option("--db", global.db, "results database")->capture_default_str();
  cmd->callback([&global, &result, run] {
    Database db = open_results(global.db);
    print_run_header(db, *run, global.db);
    print_run_provenance(db, *run);
    print_run_checkpoints(db, *run, global.db);
    print_run_curves(db, *run);
    result = ExitCode::ok;
  });
}

// The run's sample picture at `step` (< 0: the last) as (step, PNG bytes); ConfigError naming the
// steps that have one when there is none.
std::pair<int64_t, std::string> sample_picture(Database& db, int64_t run, int64_t step, const std::string& db_path) {
  if (!db.table_exists("artifacts")) throw ConfigError(fmt::format("{} has no pictures (written before schema 3)", db_path));
  auto st = db.prepare(
      "SELECT step, data FROM artifacts WHERE run_id = ?1 AND kind = 'samples' AND (?2 < 0 OR step = ?2) "
      "ORDER BY step DESC LIMIT 1");
  st.bind(1, run).bind(2, step);
  if (st.step()) return {st.column_int(0), st.column_blob(1)};
  auto steps = db.prepare("SELECT group_concat(step, ', ') FROM artifacts WHERE run_id = ?1 AND kind = 'samples'");
  steps.bind(1, run);
  const std::string have = steps.step() && !steps.column_is_null(0) ? steps.column_text(0) : "";
  throw ConfigError(have.empty() ? fmt::format("run {} has no sample pictures in {}", run, db_path)
                                 : fmt::format("run {} has no picture at step {} (steps: {})", run, step, have));
}

void add_samples(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("samples", "write a run's sample picture (grid or scatter) as a PNG file");
  auto run = std::make_shared<int64_t>(0);
  auto step = std::make_shared<int64_t>(-1);
  auto out = std::make_shared<std::string>("samples.png");
  cmd->add_option("run", *run, "run id")->required();
  cmd->add_option("--step", *step, "the evaluation step (default: the last)");
  cmd->add_option("-o,--output", *out, "PNG file to write")->capture_default_str();
  cmd->add_option("--db", global.db, "results database")->capture_default_str();
  cmd->callback([&global, &result, run, step, out] {
    Database db = open_results(global.db);
    const auto [at, png] = sample_picture(db, *run, *step, global.db);
    OutputFile f(*out);
    f.stream().write(png.data(), static_cast<std::streamsize>(png.size()));
    f.commit();
    std::cout << fmt::format("wrote {} (run {}, step {})\n", *out, *run, at);
    result = ExitCode::ok;
  });
}

}  // namespace

void add_all_builds_flag(CLI::App* cmd, bool& all_builds) {
  cmd->add_flag("--all-builds", all_builds,
                "include runs of superseded plugin builds, those made with another build of a plugin than the one "
                "the latest gantry run loaded (default: current builds only)");
}

void add_results_commands(CLI::App& app, GlobalOptions& global, int& result) {
  add_compare(app, global, result);
  add_query(app, global, result);
  add_export(app, global, result);
  add_runs(app, global, result);
  add_show(app, global, result);
  add_samples(app, global, result);
}

}  // namespace gantry::cli
