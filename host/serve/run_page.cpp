// One run's page, its pictures, the live JSON and the exports.
#include "results/compare.hpp"
#include "results/metric_sql.hpp"
#include "results/query.hpp"
#include "serve/layout.hpp"
#include "store/checkpoints.hpp"
#include "serve/pages.hpp"
#include "util/text.hpp"

#include <fmt/format.h>
#include <sstream>

namespace gantry::serve {

namespace {

// The rows of one statement bound to the run, every column as text (NULL as "").
Table rows_of(Database& db, const std::string& sql, int64_t run, const std::vector<std::string>& columns) {
  Table t{columns, std::vector<bool>(columns.size(), false), {}};
  auto st = db.prepare(sql);
  st.bind(1, run);
  while (st.step()) {
    std::vector<std::string> row;
    for (size_t c = 0; c < columns.size(); ++c) row.push_back(st.column_text(static_cast<int>(c)));
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string section(const std::string& heading, const Table& t) {
  if (t.rows.empty()) return "";
  return fmt::format("<h2>{}</h2>\n{}", html_escape(heading), html_table(t));
}

// The run's final and best value of each metric: one index range per key (metrics' primary key).
Table metrics_of(Database& db, int64_t run) {
  Table t{{"metric", "last step", "final", "best"}, {false, true, true, true}, {}};
  auto st = db.prepare(fmt::format(
      "SELECT m.key, MAX(m.step), {}, {} FROM metrics m LEFT JOIN metric_keys k ON k.key = m.key "
      "WHERE m.run_id = ?1 GROUP BY m.key ORDER BY m.key",
      metric_sql::final_value("?1", "m.key"), metric_sql::best_value_by_direction("?1", "m.key")));
  st.bind(1, run);
  while (st.step())
    t.rows.push_back({st.column_text(0), std::to_string(st.column_int(1)),
                      st.column_is_null(2) ? "" : shown_value(st.column_double(2)),
                      st.column_is_null(3) ? "" : shown_value(st.column_double(3))});
  return t;
}

// The run's checkpoints, newest first, as `gantry show` lists them; a database before schema 8
// has none.
std::string checkpoints_html(Database& db, int64_t run) {
  if (!db.table_exists("checkpoints")) return "";
  const std::vector<CheckpointRow> rows = run_checkpoints(db, run);
  if (rows.empty()) return "";
  Table t{{"step", "size", "sha256", "file", "written"}, std::vector<bool>(5, false), {}};
  for (const CheckpointRow& c : rows)
    t.rows.push_back({std::to_string(c.step), fmt::format("{:.3g} MB", static_cast<double>(c.bytes) / 1e6), c.sha256,
                      c.file, c.created_at});
  return section("Checkpoints", t);
}

// The samples at each evaluation, one at a time, chosen with a slider (live.js swaps the picture).
std::string samples_html(Database& db, int64_t run) {
  if (!db.table_exists("artifacts")) return "";
  auto st = db.prepare("SELECT step FROM artifacts WHERE run_id = ?1 AND kind = 'samples' ORDER BY step");
  st.bind(1, run);
  std::vector<std::string> steps;
  while (st.step()) steps.push_back(std::to_string(st.column_int(0)));
  if (steps.empty()) return "";
  return fmt::format(
      "<h2>Samples</h2>\n<div class=\"samples\" data-run=\"{0}\" data-steps=\"{1}\">"
      "<input type=\"range\" min=\"0\" max=\"{2}\" value=\"{2}\"> step <span class=\"step\">{3}</span><br>"
      "<img alt=\"samples at step {3}\" src=\"/artifact/{0}/{3}\"></div>\n",
      run, fmt::join(steps, ","), steps.size() - 1, steps.back());
}

}  // namespace

std::string run_page(Database& db, int64_t run) {
  auto st = db.prepare(
      "SELECT r.experiment_id, e.name, r.seed, r.status, r.step, r.steps, r.error, r.started_at, r.finished_at, "
      "r.wall_seconds, r.host, r.gantry_version FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = "
      "?1");
  st.bind(1, run);
  if (!st.step()) throw HttpError(404, fmt::format("no run with id {}", run));
  std::string body = fmt::format(
      "<p>experiment <a href=\"/experiment/{}\">{}</a> · seed {} · status <span class=\"status s-{}\" "
      "data-run=\"{}\">{}"
      "</span> · step <span class=\"run-step\">{}</span> of {} · started {} · finished {} · {} s · host {} · gantry "
      "{}</p>\n",
      st.column_int(0), html_escape(st.column_text(1)), st.column_int(2), html_escape(st.column_text(3)), run,
      html_escape(st.column_text(3)), st.column_int(4), st.column_int(5), html_escape(st.column_text(7)),
      html_escape(st.column_text(8)), st.column_is_null(9) ? "" : shown_value(st.column_double(9)),
      html_escape(st.column_text(10)), html_escape(st.column_text(11)));
  // The error holds the tail of the worker's stderr when it crashed.
  if (!st.column_is_null(6)) body += fmt::format("<h2>Error</h2>\n<pre>{}</pre>\n", html_escape(st.column_text(6)));
  body += section("Metrics", metrics_of(db, run));
  body += samples_html(db, run);
  body += section("Parameters",
                  rows_of(db, "SELECT key, value FROM params WHERE run_id = ?1 ORDER BY key", run, {"key", "value"}));
  body += section("Plugin files", rows_of(db,
                                          "SELECT section, kind, name, version, file, sha256 FROM plugins "
                                          "WHERE run_id = ?1 ORDER BY section",
                                          run, {"section", "kind", "name", "version", "file", "sha256"}));
  if (db.table_exists("run_notes"))
    body += section(
        "Notes", rows_of(db, "SELECT key, value FROM run_notes WHERE run_id = ?1 ORDER BY key", run, {"key", "value"}));
  body += checkpoints_html(db, run);
  return page_shell(fmt::format("run {}", run), body);
}

std::string live_json(Database& db, int64_t experiment) {
  experiment_name(db, experiment);  // 404 for an unknown id
  std::string counts;
  auto c = db.prepare("SELECT status, COUNT(*) FROM runs WHERE experiment_id = ?1 GROUP BY status ORDER BY status");
  c.bind(1, experiment);
  while (c.step())
    counts += fmt::format("{}{}: {}", counts.empty() ? "" : ", ", json_string(c.column_text(0)), c.column_int(1));
  // Only unfinished runs: a page of 10,000 runs polls a few rows, not all of them.
  std::string runs;
  auto r = db.prepare(
      "SELECT id, status, step, steps FROM runs WHERE experiment_id = ?1 AND status IN ('queued', 'running') "
      "ORDER BY id");
  r.bind(1, experiment);
  while (r.step())
    runs += fmt::format("{}{{\"id\": {}, \"status\": {}, \"step\": {}, \"steps\": {}}}", runs.empty() ? "" : ", ",
                        r.column_int(0), json_string(r.column_text(1)), r.column_int(2), r.column_int(3));
  return fmt::format("{{\"experiment\": {}, \"counts\": {{{}}}, \"active\": [{}]}}\n", experiment, counts, runs);
}

std::string run_json(Database& db, int64_t run) {
  auto st = db.prepare("SELECT status, step, steps FROM runs WHERE id = ?1");
  st.bind(1, run);
  if (!st.step()) throw HttpError(404, fmt::format("no run with id {}", run));
  return fmt::format("{{\"id\": {}, \"status\": {}, \"step\": {}, \"steps\": {}}}\n", run,
                     json_string(st.column_text(0)), st.column_int(1), st.column_int(2));
}

Artifact artifact(Database& db, int64_t run, int64_t step) {
  if (!db.table_exists("artifacts")) throw HttpError(404, "this database stores no pictures");
  auto st = db.prepare("SELECT mime, data FROM artifacts WHERE run_id = ?1 AND kind = 'samples' AND step = ?2");
  st.bind(1, run).bind(2, step);
  if (!st.step()) throw HttpError(404, fmt::format("run {} has no samples at step {}", run, step));
  // Only the type gantry writes is named; anything else must not be sniffed into HTML by a browser.
  return {st.column_text(0) == "image/png" ? "image/png" : "application/octet-stream", st.column_blob(1)};
}

std::string export_text(Database& db, int64_t experiment, Format format) {
  std::ostringstream out;
  export_metrics(db, experiment_name(db, experiment), format, out);
  return out.str();
}

}  // namespace gantry::serve
