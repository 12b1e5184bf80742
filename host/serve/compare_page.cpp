// gantry compare as a page: the same Comparison (results/compare.hpp), its table, heading and
// seed-noise line, and the groups' curves as SVG.
#include "plot/svg.hpp"
#include "results/compare.hpp"
#include "results/grouping.hpp"
#include "results/query.hpp"
#include "serve/layout.hpp"
#include "serve/pages.hpp"
#include "util/text.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>

namespace gantry::serve {

namespace {

CompareOptions options(Database& db, int64_t experiment, const Params& params) {
  CompareOptions o;
  o.experiments = {experiment_name(db, experiment)};
  o.metric = param(params, "metric");
  for (const std::string& b : param_all(params, "by"))
    if (!b.empty()) o.by.push_back(b);
  o.at = param(params, "at", "final");
  if (o.at.empty()) o.at = "final";
  o.all_builds = param(params, "all_builds") == "1";
  const std::string error = param(params, "error", "std");
  o.spread = parse_spread(error.empty() ? "std" : error);
  // One field holds every KEY=VALUE of the reference group, separated by spaces (a two-key sweep
  // names its group with two settings).
  for (const std::string& field : param_all(params, "versus"))
    for (size_t at = field.find_first_not_of(' '); at != std::string::npos; at = field.find_first_not_of(' ', at)) {
      const size_t end = std::min(field.find(' ', at), field.size());
      o.versus.push_back(field.substr(at, end - at));
      at = end;
    }
  return o;
}

std::string lines_html(const std::string& text) {
  std::string html;
  size_t from = 0;
  while (from <= text.size()) {
    const size_t nl = std::min(text.find('\n', from), text.size());
    html += fmt::format("<p>{}</p>\n", html_escape(text.substr(from, nl - from)));
    from = nl + 1;
  }
  return html;
}

// The metric keys the experiment has values of: one index seek per known key, where listing the
// distinct keys of its metric rows would read all of them (10 M rows in bench/serve_bench.sh).
std::vector<std::string> metric_choices(Database& db, int64_t experiment) {
  std::vector<std::string> out;
  auto keys = db.prepare("SELECT key FROM metric_keys ORDER BY key");
  auto has = db.prepare(
      "SELECT 1 FROM runs r JOIN metrics m ON m.run_id = r.id AND m.key = ?2 WHERE r.experiment_id = ?1 LIMIT 1");
  while (keys.step()) {
    has.bind(1, experiment).bind(2, keys.column_text(0));
    if (has.step()) out.push_back(keys.column_text(0));
    has.reset();
  }
  return out;
}

std::string compare_form(int64_t experiment, const CompareOptions& o, const std::vector<std::string>& metrics) {
  std::string options;
  for (const std::string& m : metrics)
    options += fmt::format("<option{}>{}</option>", m == o.metric ? " selected" : "", html_escape(m));
  const bool se = o.spread == Spread::std_error;
  return fmt::format(
      "<form method=\"get\" action=\"/experiment/{}/compare\">metric <select name=\"metric\"><option value=\"\">"
      "(primary)</option>{}</select> at <input name=\"at\" size=\"6\" value=\"{}\"> group by <input name=\"by\" "
      "value=\"{}\" placeholder=\"(its sweep)\"> ± <select name=\"error\"><option value=\"std\"{}>std over seeds</option>"
      "<option value=\"se\"{}>standard error</option></select> test against <input name=\"versus\" value=\"{}\" "
      "placeholder=\"(the best) KEY=VALUE\"> <button>compare</button></form>\n",
      experiment, options, html_escape(o.at), html_escape(o.by.empty() ? "" : o.by.front()), se ? "" : " selected",
      se ? " selected" : "", html_escape(fmt::format("{}", fmt::join(o.versus, " "))));
}

}  // namespace

Table compare_table(Database& db, int64_t experiment, const Params& params, Format format) {
  return comparison_table(compare_runs(db, options(db, experiment, params)), format);
}

std::string curves_page_svg(Database& db, int64_t experiment, const Params& params) {
  const std::string name = experiment_name(db, experiment);
  const std::string metric = choose_metric(db, {{experiment, name}}, param(params, "metric")).key;
  std::vector<std::string> by;
  for (const std::string& b : param_all(params, "by"))
    if (!b.empty()) by.push_back(b);
  const auto groups = group_curves(db, name, metric, by, param(params, "all_builds") == "1", true);
  const std::string error = param(params, "error");
  const Spread spread = parse_spread(error.empty() ? "std" : error);
  std::vector<Curve> curves;
  for (const GroupCurve& g : groups)
    curves.push_back({by.empty() ? "all runs" : fmt::format("{}", fmt::join(g.key, " / ")), g.steps, g.mean,
                      g.band(spread), g.min, g.max});
  return curves_svg(curves,
                    fmt::format("{}: {}, mean ± {}{}", name, metric, band_phrase(spread),
                                by.empty() ? "" : fmt::format("; lines: {}", fmt::join(by, " / "))),
                    metric);
}

std::string compare_page(Database& db, int64_t experiment, const Params& params) {
  CompareOptions o = options(db, experiment, params);
  const Comparison c = compare_runs(db, o);
  o.metric = c.metric;
  Params shown{{"metric", c.metric}, {"at", c.at}};
  for (const std::string& b : o.by) shown.emplace("by", b);
  if (o.spread == Spread::std_error) shown.emplace("error", "se");
  for (const std::string& v : o.versus) shown.emplace("versus", v);
  const std::string q = html_escape(query_string(shown));
  std::string body = compare_form(experiment, o, metric_choices(db, experiment));
  body += lines_html(comparison_heading(c));
  if (const std::string note = superseded_note(c.superseded, o.all_builds); !note.empty()) body += lines_html(note);
  body += html_table(comparison_table(c), " id=\"compare\"");
  for (const std::string& line : comparison_footer(c)) body += lines_html(line);
  Params curve{{"metric", c.metric}};
  for (const std::string& b : o.by) curve.emplace("by", b);
  // The curves' band is the table's ±.
  if (o.spread == Spread::std_error) curve.emplace("error", "se");
  body += fmt::format("<div class=\"curves\" data-src=\"/experiment/{}/curves.svg{}\">{}</div>\n", experiment,
                      html_escape(query_string(curve)), curves_page_svg(db, experiment, curve));
  body += fmt::format(
      "<p>export this table: <a href=\"/experiment/{0}/compare.csv{1}\">compare.csv</a>, "
      "<a href=\"/experiment/{0}/compare.json{1}\">compare.json</a> · <a href=\"/experiment/{0}\">runs</a></p>\n",
      experiment, q);
  return page_shell(fmt::format("{}: compare {}", o.experiments.front(), c.metric), body);
}

}  // namespace gantry::serve
