// The experiments list and an experiment's runs.
#include "serve/pages.hpp"

#include "results/compare.hpp"
#include "results/grouping.hpp"
#include "results/metric_sql.hpp"
#include "results/query.hpp"
#include "serve/layout.hpp"
#include "util/text.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <set>

namespace gantry::serve {

std::string experiments_page(Database& db) {
  // One pass over runs by the (experiment_id, status) index; the timestamps are ISO text, so MAX works.
  auto st = db.prepare(
      "SELECT e.id, e.name, r.status, COUNT(r.id), e.updated_at, "
      "COALESCE(MAX(COALESCE(r.finished_at, r.started_at, r.created_at)), '') "
      "FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id GROUP BY e.id, r.status ORDER BY e.name, "
      "r.status");
  struct Row {
    std::string name, counts, last;
  };
  std::map<int64_t, Row> rows;
  while (st.step()) {
    Row& r = rows[st.column_int(0)];
    r.name = st.column_text(1);
    if (!st.column_is_null(2))
      r.counts += fmt::format("{}<span class=\"s-{}\">{} {}</span>", r.counts.empty() ? "" : ", ",
                              html_escape(st.column_text(2)), st.column_int(3), html_escape(st.column_text(2)));
    r.last = std::max({r.last, st.column_text(4), st.column_text(5)});
  }
  std::vector<std::pair<int64_t, Row>> sorted(rows.begin(), rows.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.last > b.second.last; });
  std::string body = "<table><tr><th>experiment</th><th>runs</th><th>last activity</th></tr>\n";
  for (const auto& [id, r] : sorted)
    body += fmt::format("<tr><td><a href=\"/experiment/{}\">{}</a></td><td>{}</td><td>{}</td></tr>\n", id,
                        html_escape(r.name), r.counts.empty() ? "no runs" : r.counts, html_escape(r.last));
  if (sorted.empty()) body += "<tr><td colspan=\"3\">no experiments yet</td></tr>\n";
  return page_shell("experiments", body + "</table>\n");
}

namespace {

constexpr size_t shown_rows = 1000;

bool as_number(const std::string& s, double& v) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

// The metric the runs table shows: metric=, else the experiment's primary key (none when unknown).
std::string table_metric(Database& db, const ExperimentRef& exp, const Params& params) {
  const std::string asked = param(params, "metric");
  if (!asked.empty()) return choose_metric(db, {exp}, asked).key;
  return default_metric(db, exp).key;
}

// "KEY=VALUE" filters; HttpError 400 for one without '='.
std::vector<std::pair<std::string, std::string>> param_filters(const Params& params) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& f : param_all(params, "param")) {
    const size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0) throw HttpError(400, fmt::format("param= takes KEY=VALUE, not '{}'", f));
    out.emplace_back(f.substr(0, eq), f.substr(eq + 1));
  }
  return out;
}

// Every run's value of each key (absent_cell where it has none), one index seek per run and key.
void add_param_columns(Database& db, int64_t experiment, const std::vector<std::string>& keys, Table& t,
                       const std::map<int64_t, size_t>& row_of) {
  auto st = db.prepare(
      "SELECT r.id, p.value FROM runs r JOIN params p ON p.run_id = r.id AND p.key = ?2 WHERE r.experiment_id = ?1");
  for (const std::string& key : keys) {
    t.columns.push_back(key), t.numeric.push_back(false);
    for (auto& row : t.rows) row.emplace_back(absent_cell);
    st.bind(1, experiment).bind(2, key);
    while (st.step()) t.rows[row_of.at(st.column_int(0))].back() = st.column_text(1);
    st.reset();
  }
}

void add_metric_columns(Database& db, int64_t experiment, const std::string& metric, Table& t,
                        const std::map<int64_t, size_t>& row_of) {
  if (metric.empty()) return;
  auto dir = db.prepare("SELECT direction FROM metric_keys WHERE key = ?1");
  dir.bind(1, metric);
  const bool lower = dir.step() && dir.column_text(0) == "lower";
  auto st = db.prepare(fmt::format("SELECT r.id, {}, {} FROM runs r WHERE r.experiment_id = ?1",
                                   metric_sql::final_value("r.id", "?2"), metric_sql::best_value("r.id", "?2", lower)));
  st.bind(1, experiment).bind(2, metric);
  for (const char* what : {"final", "best"}) {
    t.columns.push_back(fmt::format("{} {}", metric, what)), t.numeric.push_back(true);
    for (auto& row : t.rows) row.emplace_back();
  }
  while (st.step()) {
    auto& row = t.rows[row_of.at(st.column_int(0))];
    if (!st.column_is_null(1)) row[row.size() - 2] = shown_value(st.column_double(1));
    if (!st.column_is_null(2)) row.back() = shown_value(st.column_double(2));
  }
}

void filter_and_sort(Table& t, const Params& params, const std::vector<std::pair<std::string, std::string>>& filters) {
  const std::vector<std::string> statuses = param_all(params, "status");
  auto column = [&](const std::string& name) -> size_t {
    const auto it = std::find(t.columns.begin(), t.columns.end(), name);
    if (it == t.columns.end()) throw HttpError(400, fmt::format("no column '{}' to sort by", name));
    return static_cast<size_t>(it - t.columns.begin());
  };
  std::erase_if(t.rows, [&](const std::vector<std::string>& row) {
    if (!statuses.empty() && std::find(statuses.begin(), statuses.end(), row[2]) == statuses.end()) return true;
    for (const auto& [key, value] : filters) {
      const std::string& cell = row[column(key)];
      double a = 0, b = 0;
      if (cell != value && !(as_number(cell, a) && as_number(value, b) && a == b)) return true;
    }
    return false;
  });
  const std::string sort = param(params, "sort");
  if (sort.empty()) return;
  const size_t c = column(sort);
  const bool desc = param(params, "desc") == "1";
  // Numbers by value, before text; text by its bytes.
  std::stable_sort(t.rows.begin(), t.rows.end(), [&](const auto& x, const auto& y) {
    double a = 0, b = 0;
    const bool na = as_number(x[c], a), nb = as_number(y[c], b);
    const bool less = na && nb ? a < b : na != nb ? na : x[c] < y[c];
    const bool more = na && nb ? b < a : na != nb ? nb : y[c] < x[c];
    return desc ? more : less;
  });
}

}  // namespace

Table runs_table(Database& db, int64_t experiment, const Params& params) {
  const ExperimentRef exp{experiment, experiment_name(db, experiment)};
  const auto filters = param_filters(params);
  std::vector<std::string> keys = experiment_layout(db, exp).sweep;
  for (const auto& [key, value] : filters)
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  Table t;
  t.columns = {"run", "seed", "status", "step", "steps"};
  t.numeric = {true, true, false, true, true};
  std::map<int64_t, size_t> row_of;
  auto st = db.prepare("SELECT id, seed, status, step, steps FROM runs WHERE experiment_id = ?1 ORDER BY id");
  st.bind(1, experiment);
  while (st.step()) {
    row_of[st.column_int(0)] = t.rows.size();
    t.rows.push_back({std::to_string(st.column_int(0)), std::to_string(st.column_int(1)), st.column_text(2),
                      std::to_string(st.column_int(3)), std::to_string(st.column_int(4))});
  }
  add_param_columns(db, experiment, keys, t, row_of);
  add_metric_columns(db, experiment, table_metric(db, exp, params), t, row_of);
  filter_and_sort(t, params, filters);
  return t;
}

namespace {

// The runs as rows the live script can find: data-run on the row, classes on status and step.
std::string runs_html(const Table& t, const Params& params, int64_t experiment) {
  std::string html = "<table id=\"runs\"><tr>";
  const std::string sorted = param(params, "sort");
  const bool desc = param(params, "desc") == "1";
  for (const std::string& c : t.columns) {
    Params p = params;
    p.erase("sort"), p.erase("desc");
    p.emplace("sort", c);
    if (c == sorted && !desc) p.emplace("desc", "1");
    html += fmt::format("<th><a href=\"/experiment/{}{}\">{}{}</a></th>", experiment, html_escape(query_string(p)),
                        html_escape(c), c == sorted ? (desc ? " ▼" : " ▲") : "");
  }
  html += "</tr>\n";
  for (size_t i = 0; i < std::min(t.rows.size(), shown_rows); ++i) {
    const auto& row = t.rows[i];
    html +=
        fmt::format("<tr data-run=\"{0}\"><td class=\"num\"><a href=\"/run/{0}\">{0}</a></td>", html_escape(row[0]));
    for (size_t c = 1; c < row.size(); ++c) {
      const std::string cls = c == 2         ? fmt::format("status s-{}", row[c])
                              : c == 3       ? "num step"
                              : t.numeric[c] ? "num"
                                             : "";
      html += fmt::format("<td{}>{}</td>", cls.empty() ? "" : fmt::format(" class=\"{}\"", html_escape(cls)),
                          html_escape(row[c]));
    }
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

std::string filter_form(int64_t experiment, const Params& params) {
  return fmt::format(
      "<form method=\"get\" action=\"/experiment/{}\">status <select name=\"status\"><option value=\"\"></option>"
      "{}</select> parameter <input name=\"param\" placeholder=\"loss.plugin=hinge\" value=\"{}\"> metric "
      "<input name=\"metric\" value=\"{}\"> <button>show</button></form>\n",
      experiment,
      [&] {
        std::string options;
        for (const char* s : {"queued", "running", "completed", "failed", "diverged", "interrupted"})
          options += fmt::format("<option{}>{}</option>", param(params, "status") == s ? " selected" : "", s);
        return options;
      }(),
      html_escape(param(params, "param")), html_escape(param(params, "metric")));
}

}  // namespace

std::string experiment_page(Database& db, int64_t experiment, const Params& params) {
  const std::string name = experiment_name(db, experiment);
  Params shown = params;
  std::erase_if(shown, [](const auto& kv) { return kv.second.empty(); });  // an empty form field filters nothing
  const Table t = runs_table(db, experiment, shown);
  const std::string q = html_escape(query_string(shown));
  std::string body = fmt::format(
      "<p id=\"counts\" data-experiment=\"{0}\"></p>\n<p><a href=\"/experiment/{0}/compare\">compare groups</a> · "
      "export what is shown: <a href=\"/experiment/{0}/runs.csv{1}\">runs.csv</a>, "
      "<a href=\"/experiment/{0}/runs.json{1}\">runs.json</a> · every metric row: "
      "<a href=\"/experiment/{0}/metrics.csv\">metrics.csv</a>, <a "
      "href=\"/experiment/{0}/metrics.json\">metrics.json</a></p>\n",
      experiment, q);
  body += filter_form(experiment, shown);
  const std::string metric =
      t.columns.back().ends_with(" best") ? t.columns.back().substr(0, t.columns.back().size() - 5) : "";
  if (!metric.empty()) {
    Params curve{{"metric", metric}};
    body += fmt::format("<div class=\"curves\" data-src=\"/experiment/{}/curves.svg{}\">{}</div>\n", experiment,
                        html_escape(query_string(curve)), curves_page_svg(db, experiment, curve));
  }
  if (t.rows.size() > shown_rows)
    body += fmt::format("<p>{} runs match; the first {} are shown (filter, or take runs.csv for all).</p>\n",
                        t.rows.size(), shown_rows);
  return page_shell(name, body + runs_html(t, shown, experiment));
}

}  // namespace gantry::serve
