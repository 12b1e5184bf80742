#include "results/report.hpp"

#include "plot/plot.hpp"
#include "results/compare.hpp"
#include "results/query.hpp"
#include "util/base64.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <map>
#include <set>

namespace gantry {

namespace {

std::string group_label(const std::vector<std::string>& by, const std::vector<std::string>& key) {
  if (by.empty()) return "all runs";
  std::vector<std::string> parts;
  for (size_t i = 0; i < by.size(); ++i) parts.push_back(key[i].empty() ? "-" : key[i]);
  return fmt::format("{}", fmt::join(parts, " / "));
}

std::string escape_html(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

std::string img(const std::string& png, const std::string& alt) {
  return fmt::format("<img alt=\"{}\" src=\"data:image/png;base64,{}\">", escape_html(alt), base64_encode(png));
}

// The metric keys (losses aside) that the shown runs have, sorted: one section each.
std::vector<std::string> reported_metrics(Database& db, int64_t exp, const std::set<int64_t>& hidden) {
  std::set<std::string> keys;
  auto st = db.prepare(
      "SELECT DISTINCT m.key, m.run_id FROM metrics m JOIN runs r ON r.id = m.run_id "
      "WHERE r.experiment_id = ?1 AND m.key NOT LIKE 'loss.%'");
  st.bind(1, exp);
  while (st.step())
    if (!hidden.contains(st.column_int(1))) keys.insert(st.column_text(0));
  return {keys.begin(), keys.end()};
}

// "<p>Runs: 2 completed, 1 failed.</p>" over the shown runs.
std::string runs_paragraph(Database& db, int64_t exp, const std::set<int64_t>& hidden) {
  auto runs = db.prepare("SELECT id, status FROM runs WHERE experiment_id = ?1");
  runs.bind(1, exp);
  std::map<std::string, int64_t> by_status;
  while (runs.step())
    if (!hidden.contains(runs.column_int(0))) ++by_status[runs.column_text(1)];
  std::vector<std::string> counts;
  for (const auto& [status, n] : by_status) counts.push_back(fmt::format("{} {}", n, status));
  return fmt::format("<p>Runs: {}.</p>\n", escape_html(fmt::format("{}", fmt::join(counts, ", "))));
}

}  // namespace

std::string plot_metric(Database& db, const std::string& experiment, const std::string& metric,
                        std::vector<std::string> by, bool all_builds) {
  const auto curves = group_curves(db, experiment, metric, by, all_builds);
  if (curves.empty()) throw ConfigError(fmt::format("experiment '{}' has no completed values of '{}'", experiment, metric));
  std::vector<Curve> lines;
  for (const GroupCurve& g : curves) lines.push_back({group_label(by, g.key), g.steps, g.mean, g.stddev});
  return curves_png(lines,
                    fmt::format("{}: {}, mean ± std over seeds{}", experiment, metric,
                                by.empty() ? "" : fmt::format("; lines: {}", fmt::join(by, " / "))),
                    metric);
}

std::string html_report(Database& db, const std::string& experiment, std::string primary_metric,
                        bool all_builds) {
  const int64_t exp = experiment_id(db, experiment);
  const std::set<int64_t> superseded = superseded_runs(db, exp);
  const std::set<int64_t> hidden = all_builds ? std::set<int64_t>{} : superseded;
  const std::vector<std::string> metrics = reported_metrics(db, exp, hidden);
  if (primary_metric.empty() && !metrics.empty()) primary_metric = metrics.front();

  std::string html = fmt::format(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gantry report: {0}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1em; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
th {{ background: #f0f0f0; }}
td.text {{ text-align: left; }}
tr.best td {{ background: #e8f5e9; font-weight: bold; }}
.samples {{ display: flex; flex-wrap: wrap; gap: 1em; }}
.samples figure {{ margin: 0; }}
.samples img {{ width: 240px; height: 240px; border: 1px solid #ccc; }}
</style></head><body>
<h1>{0}</h1>
)",
                                 escape_html(experiment));
  html += runs_paragraph(db, exp, hidden);
  if (const std::string note = superseded_note(superseded.size(), all_builds); !note.empty())
    html += fmt::format("<p>{}.</p>\n", escape_html(note));

  for (const std::string& metric : metrics) {
    const Comparison c = compare_runs(db, {experiment, metric, {}, "final", all_builds});
    html += fmt::format("<h2>{}</h2>\n<p>{}</p>\n<table><tr>", escape_html(metric), escape_html(comparison_heading(c)));
    const Table t = comparison_table(c);
    for (const auto& col : t.columns) html += fmt::format("<th>{}</th>", escape_html(col));
    html += "</tr>\n";
    for (const auto& row : t.rows) {
      html += row[0].starts_with("*") ? "<tr class=\"best\">" : "<tr>";
      for (size_t i = 0; i < row.size(); ++i)
        html += fmt::format("<td{}>{}</td>", i < t.numeric.size() && t.numeric[i] ? "" : " class=\"text\"",
                            escape_html(row[i]));
      html += "</tr>\n";
    }
    html += "</table>\n";
    const std::string verdict = comparison_verdict(c);
    if (!verdict.empty()) html += fmt::format("<p>{}</p>\n", escape_html(verdict));
    html += img(plot_metric(db, experiment, metric, {}, all_builds), metric + " over steps") + "\n";
  }

  if (!primary_metric.empty() && db.table_exists("artifacts")) {  // databases before schema 3 have no pictures
    // The latest samples of the best run (by the primary metric's final value) of each group.
    const Comparison c = compare_runs(db, {experiment, primary_metric, {}, "final", all_builds});
    const auto groups = run_groups(db, exp, c.by);
    auto final_value = db.prepare("SELECT value FROM final_metrics WHERE run_id = ?1 AND key = ?2");
    auto picture = db.prepare(
        "SELECT step, data FROM artifacts WHERE run_id = ?1 AND kind = 'samples' ORDER BY step DESC LIMIT 1");
    std::string figures;
    for (const CompareGroup& g : c.groups) {
      int64_t best_run = 0;
      double best = 0;
      for (const auto& [run, key] : groups) {
        if (key != g.key || hidden.contains(run)) continue;
        final_value.bind(1, run).bind(2, primary_metric);
        if (final_value.step() && !final_value.column_is_null(0)) {
          const double v = final_value.column_double(0);
          if (best_run == 0 || (c.higher_is_better ? v > best : v < best)) best_run = run, best = v;
        }
        final_value.reset();
      }
      if (best_run == 0) continue;
      picture.bind(1, best_run);
      if (picture.step())
        figures += fmt::format("<figure>{}<figcaption>{}<br>run {}, step {}: {} = {:.4g}</figcaption></figure>\n",
                               img(picture.column_blob(1), "samples"), escape_html(group_label(c.by, g.key)),
                               best_run, picture.column_int(0), escape_html(primary_metric), best);
      picture.reset();
    }
    if (!figures.empty())
      html += fmt::format("<h2>Samples: the best run of each group by {}</h2>\n<div class=\"samples\">\n{}</div>\n",
                          escape_html(primary_metric), figures);
  }
  html += "<p><small>Made by gantry report.</small></p>\n</body></html>\n";
  return html;
}

}  // namespace gantry
