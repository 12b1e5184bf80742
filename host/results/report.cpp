#include "results/report.hpp"

#include "plot/plot.hpp"
#include "results/compare.hpp"
#include "results/query.hpp"
#include "util/base64.hpp"
#include "util/text.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <set>

namespace gantry {

namespace {

std::string group_label(const std::vector<std::string>& by, const std::vector<std::string>& key) {
  if (by.empty()) return "all runs";
  return fmt::format("{}", fmt::join(key, " / "));
}

std::string img(const std::string& png, const std::string& alt) {
  return fmt::format("<img alt=\"{}\" src=\"data:image/png;base64,{}\">", html_escape(alt), base64_encode(png));
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
  return fmt::format("<p>Runs: {}.</p>\n", html_escape(fmt::format("{}", fmt::join(counts, ", "))));
}

}  // namespace

std::string plot_metric(Database& db, const std::string& experiment, std::string metric, std::vector<std::string> by,
                        bool all_builds, Spread spread) {
  metric = choose_metric(db, {{experiment_id(db, experiment), experiment}}, metric).key;
  const auto curves = group_curves(db, experiment, metric, by, all_builds);
  if (curves.empty()) throw ConfigError(fmt::format("experiment '{}' has no completed values of '{}'", experiment, metric));
  std::vector<Curve> lines;
  for (const GroupCurve& g : curves)
    lines.push_back({group_label(by, g.key), g.steps, g.mean, g.band(spread), g.min, g.max});
  return curves_png(lines,
                    fmt::format("{}: {}, mean ± {}{}", experiment, metric, band_phrase(spread),
                                by.empty() ? "" : fmt::format("; lines: {}", fmt::join(by, " / "))),
                    metric);
}

namespace {

constexpr const char* page_head = R"(<!DOCTYPE html>
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
)";

std::string paragraph(const std::string& text) {
  std::string html = html_escape(text);
  for (size_t at = 0; (at = html.find('\n', at)) != std::string::npos;) html.replace(at, 1, "<br>");
  return fmt::format("<p>{}</p>\n", html);
}

// One metric's comparison table (best rows highlighted, tied ones too), its verdict and curves.
// `mark` follows the heading of the metric that picks the best runs: "(primary)" or "(--metric)".
std::string metric_section(Database& db, const std::string& experiment, const std::string& metric,
                           const std::string& mark, bool all_builds) {
  const Comparison c = compare_runs(db, {{experiment}, metric, {}, "final", all_builds});
  std::string html = fmt::format("<h2>{}{}</h2>\n", html_escape(metric), mark.empty() ? "" : " " + mark);
  html += paragraph(comparison_heading(c)) + "<table><tr>";
  const Table t = comparison_table(c);
  for (const auto& col : t.columns) html += fmt::format("<th>{}</th>", html_escape(col));
  html += "</tr>\n";
  for (const auto& row : t.rows) {
    html += row[0] == "*1" || row[0] == "=1" ? "<tr class=\"best\">" : "<tr>";
    for (size_t i = 0; i < row.size(); ++i)
      html += fmt::format("<td{}>{}</td>", i < t.numeric.size() && t.numeric[i] ? "" : " class=\"text\"",
                          html_escape(row[i]));
    html += "</tr>\n";
  }
  html += "</table>\n";
  for (const std::string& line : comparison_footer(c)) html += paragraph(line);
  return html + img(plot_metric(db, experiment, metric, {}, all_builds), metric + " over steps") + "\n";
}

struct BestRuns {
  std::vector<int64_t> runs;  ///< tied for best (equal shown_value), lowest id first
  double value = 0;
};

// Each group's best completed runs by the metric's last value, in the metric's direction; runs
// in `hidden` (superseded builds) are never chosen.
std::map<std::vector<std::string>, BestRuns> best_runs(Database& db, const ExperimentRef& exp, const Comparison& c,
                                                       const std::set<int64_t>& hidden) {
  const auto groups = comparison_run_keys(db, {exp}, c);
  auto final_value = db.prepare(
      "SELECT f.value FROM final_metrics f JOIN runs r ON r.id = f.run_id "
      "WHERE f.run_id = ?1 AND f.key = ?2 AND r.status = 'completed' AND f.value IS NOT NULL");
  std::map<std::vector<std::string>, BestRuns> best;
  for (const auto& [run, key] : groups) {  // by run id
    if (hidden.contains(run)) continue;
    final_value.bind(1, run).bind(2, c.metric);
    if (final_value.step()) {
      const double v = final_value.column_double(0);
      BestRuns& b = best[key];
      if (!b.runs.empty() && shown_value(v) == shown_value(b.value)) b.runs.push_back(run);
      else if (b.runs.empty() || (c.higher_is_better ? v > b.value : v < b.value)) b = {{run}, v};
    }
    final_value.reset();
  }
  return best;
}

// The latest samples of each group's best run by `choice`; without a metric, why there are none.
std::string samples_section(Database& db, const ExperimentRef& exp, const MetricChoice& choice,
                            const std::set<int64_t>& hidden, bool all_builds) {
  if (choice.key.empty())
    return fmt::format("<h2>Samples</h2>\n{}", paragraph(fmt::format("No best runs to show: {}; pass --metric to "
                                                                      "choose the metric that picks them.", choice.reason)));
  const Comparison c = compare_runs(db, {{exp.name}, choice.key, {}, "final", all_builds});
  const auto best = best_runs(db, exp, c, hidden);
  auto picture = db.prepare(
      "SELECT step, data FROM artifacts WHERE run_id = ?1 AND kind = 'samples' ORDER BY step DESC LIMIT 1");
  std::string figures;
  for (const CompareGroup& g : c.groups) {
    const auto it = best.find(g.key);
    if (it == best.end()) continue;
    const std::vector<int64_t>& runs = it->second.runs;
    picture.bind(1, runs.front());
    if (picture.step()) {
      const std::string tied = runs.size() < 2 ? ""
          : fmt::format("<br>tied with run{} {}", runs.size() > 2 ? "s" : "",
                        fmt::join(runs.begin() + 1, runs.end(), ", "));
      figures += fmt::format("<figure>{}<figcaption>{}<br>run {}, step {}: {} = {}{}</figcaption></figure>\n",
                             img(picture.column_blob(1), "samples"), html_escape(group_label(c.by, g.key)),
                             runs.front(), picture.column_int(0), html_escape(choice.key),
                             shown_value(it->second.value), tied);
    }
    picture.reset();
  }
  if (figures.empty()) return "";
  return fmt::format("<h2>Samples: the best run of each group by {}</h2>\n{}<div class=\"samples\">\n{}</div>\n",
                     html_escape(choice.key), paragraph("metric: " + choice.reason), figures);
}

}  // namespace

std::string html_report(Database& db, const std::string& experiment, std::string metric, bool all_builds) {
  const ExperimentRef exp{experiment_id(db, experiment), experiment};
  const std::set<int64_t> superseded = superseded_runs(db, exp.id);
  const std::set<int64_t> hidden = all_builds ? std::set<int64_t>{} : superseded;
  MetricChoice choice{metric, ""};
  if (metric.empty()) choice = default_metric(db, exp);
  else choice.reason = fmt::format("{}, chosen with --metric", metric);
  // Every metric but the losses, the primary one first.
  std::vector<std::string> metrics = reported_metrics(db, exp.id, hidden);
  if (!choice.key.empty() && std::find(metrics.begin(), metrics.end(), choice.key) == metrics.end())
    throw ConfigError(fmt::format("unknown metric '{}' (available: {})", choice.key, fmt::join(metrics, ", ")));
  std::stable_partition(metrics.begin(), metrics.end(), [&](const std::string& k) { return k == choice.key; });

  std::string html = fmt::format(page_head, html_escape(experiment));
  html += runs_paragraph(db, exp.id, hidden);
  if (const std::string note = superseded_note(superseded.size(), all_builds); !note.empty())
    html += fmt::format("<p>{}.</p>\n", html_escape(note));
  for (const std::string& m : metrics)
    html += metric_section(db, experiment, m, m != choice.key ? "" : metric.empty() ? "(primary)" : "(--metric)",
                           all_builds);
  if (db.table_exists("artifacts"))  // databases before schema 3 have no pictures
    html += samples_section(db, exp, choice, hidden, all_builds);
  html += "<p><small>Made by gantry report.</small></p>\n</body></html>\n";
  return html;
}

}  // namespace gantry
