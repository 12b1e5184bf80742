#include "results/query.hpp"

#include "results/compare.hpp"
#include "store/schema.sql.hpp"
#include "store/store.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <map>

namespace gantry {

Table run_query(const std::filesystem::path& path, const std::string& sql) {
  // The connection is read-only and its authorizer (read_only_authorizer) refuses anything but
  // reads before it runs; sqlite3_stmt_readonly below alone would let ATTACH through.
  Database db = open_results(path);
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), static_cast<int>(sql.size()), &raw, &tail) != SQLITE_OK) {
    const std::string msg = sqlite3_errmsg(db.handle());
    if (msg == "not authorized")
      throw ConfigError("refused: gantry query only reads (this statement would write or change the database)");
    // "not authorized to use function: load_extension"
    if (msg.starts_with("not authorized")) throw ConfigError(fmt::format("refused: gantry query only reads ({})", msg));
    throw ConfigError(fmt::format("sql: {}", msg));
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> st(raw, sqlite3_finalize);
  if (st == nullptr) throw ConfigError("sql: no statement");
  if (tail != nullptr && std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string_view::npos)
    throw ConfigError("gantry query runs one statement at a time");
  if (!sqlite3_stmt_readonly(st.get()))
    throw ConfigError("refused: gantry query only reads (this statement would write or change the database)");
  Table t;
  const int ncol = sqlite3_column_count(st.get());
  for (int c = 0; c < ncol; ++c) t.columns.emplace_back(sqlite3_column_name(st.get(), c));
  t.numeric.assign(static_cast<size_t>(ncol), true);
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < ncol; ++c) {
      const int type = sqlite3_column_type(st.get(), c);
      if (type == SQLITE_TEXT || type == SQLITE_BLOB) t.numeric[static_cast<size_t>(c)] = false;
      if (type == SQLITE_FLOAT) row.push_back(number_cell(sqlite3_column_double(st.get(), c)));
      else if (type == SQLITE_NULL) row.emplace_back();
      else row.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st.get(), c)));
    }
    t.rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) throw ConfigError(fmt::format("sql: {}", sqlite3_errmsg(db.handle())));
  return t;
}

std::set<int64_t> superseded_runs(Database& db, int64_t experiment_id) {
  // A database written before schema 5 has no plugin_builds table, and opened read-only it cannot
  // be given one: its runs stand in for it, as they did when the migration started the table.
  const std::string with =
      db.table_exists("plugin_builds")
          ? ""
          : fmt::format("WITH plugin_builds AS ({}), current_plugin_builds AS ({}), superseded_runs AS ({}) ",
                        schema::plugin_builds_from_runs, schema::current_plugin_builds, schema::superseded_runs);
  // Two statements rather than "?1 = 0 OR ...", which would keep SQLite from starting at the
  // experiment's runs: one experiment of a large database takes milliseconds, not a scan.
  auto st = db.prepare(with + (experiment_id == 0 ? "SELECT DISTINCT run_id FROM superseded_runs"
                                                  : "SELECT DISTINCT s.run_id FROM runs r JOIN superseded_runs s "
                                                    "ON s.run_id = r.id WHERE r.experiment_id = ?1"));
  if (experiment_id != 0) st.bind(1, experiment_id);
  std::set<int64_t> out;
  while (st.step()) out.insert(st.column_int(0));
  return out;
}

std::string superseded_note(size_t superseded, bool all_builds) {
  if (superseded == 0) return "";
  if (all_builds)
    return fmt::format("{} run(s) of superseded plugin builds included (a later gantry run loaded other builds of "
                       "their plugins)", superseded);
  return fmt::format("{} run(s) of superseded plugin builds hidden (--all-builds shows them)", superseded);
}

int64_t export_metrics(Database& db, const std::string& experiment, Format format, std::ostream& out) {
  if (format != Format::csv && format != Format::json)
    throw ConfigError("gantry export writes csv or json");
  const int64_t exp = experiment_id(db, experiment);
  // Every parameter becomes a column; runs that lack one leave it empty.
  std::vector<std::string> keys;
  auto k = db.prepare(
      "SELECT DISTINCT p.key FROM params p JOIN runs r ON r.id = p.run_id WHERE r.experiment_id = ?1 ORDER BY 1");
  k.bind(1, exp);
  while (k.step()) keys.push_back(k.column_text(0));
  std::map<int64_t, std::map<std::string, std::pair<std::string, bool>>> params;  // run → key → (text, numeric)
  auto p = db.prepare(
      "SELECT p.run_id, p.key, p.value, typeof(p.value) FROM params p JOIN runs r ON r.id = p.run_id "
      "WHERE r.experiment_id = ?1");
  p.bind(1, exp);
  while (p.step()) {
    const std::string type = p.column_text(3);
    const bool numeric = type == "integer" || type == "real";
    params[p.column_int(0)][p.column_text(1)] = {
        type == "real" ? number_cell(p.column_double(2)) : p.column_text(2), numeric};
  }

  std::vector<std::string> columns{"run_id", "seed", "status"};
  columns.insert(columns.end(), keys.begin(), keys.end());
  columns.insert(columns.end(), {"key", "step", "value"});
  if (format == Format::csv) {
    for (size_t c = 0; c < columns.size(); ++c) out << (c ? "," : "") << csv_cell(columns[c]);
    out << "\n";
  } else {
    out << "[";
  }
  auto rows = db.prepare(
      "SELECT r.id, r.seed, r.status, m.key, m.step, m.value FROM runs r JOIN metrics m ON m.run_id = r.id "
      "WHERE r.experiment_id = ?1 ORDER BY r.id, m.key, m.step");
  rows.bind(1, exp);
  int64_t n = 0;
  std::string line;
  while (rows.step()) {
    const int64_t run = rows.column_int(0);
    const auto& run_params = params[run];
    const std::string value = rows.column_is_null(5) ? "" : number_cell(rows.column_double(5));
    line.clear();
    if (format == Format::csv) {
      line += fmt::format("{},{},{}", run, rows.column_int(1), rows.column_text(2));
      for (const auto& key : keys) {
        auto it = run_params.find(key);
        line += ",";
        if (it != run_params.end()) line += csv_cell(it->second.first);
      }
      line += fmt::format(",{},{},{}\n", csv_cell(rows.column_text(3)), rows.column_int(4), value);
    } else {
      line += fmt::format("{}{{\"run_id\": {}, \"seed\": {}, \"status\": {}", n ? ",\n " : "\n ", run,
                          rows.column_int(1), json_string(rows.column_text(2)));
      for (const auto& key : keys) {
        auto it = run_params.find(key);
        line += fmt::format(", {}: {}", json_string(key),
                            it == run_params.end() ? "null"
                            : it->second.second   ? it->second.first
                                                   : json_string(it->second.first));
      }
      line += fmt::format(", \"key\": {}, \"step\": {}, \"value\": {}}}", json_string(rows.column_text(3)),
                          rows.column_int(4), value.empty() ? "null" : value);
    }
    out << line;
    ++n;
  }
  if (format == Format::json) out << (n ? "\n]\n" : "]\n");
  return n;
}

}  // namespace gantry
