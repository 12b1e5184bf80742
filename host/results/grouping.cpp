#include "results/grouping.hpp"

#include "sweep/expand.hpp"
#include "util/text.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <fmt/format.h>
#include <optional>
#include <set>
#include <toml++/toml.h>
#include <tuple>

namespace gantry {

int64_t experiment_id(Database& db, const std::string& name) {
  auto st = db.prepare("SELECT id FROM experiments WHERE name = ?1");
  st.bind(1, name);
  if (st.step()) return st.column_int(0);
  std::vector<std::string> names;
  auto all = db.prepare("SELECT name FROM experiments ORDER BY name");
  while (all.step()) names.push_back(all.column_text(0));
  throw ConfigError(fmt::format("no experiment named '{}' (available: {})", name,
                                names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "))));
}

std::vector<ExperimentRef> find_experiments(Database& db, const std::vector<std::string>& names) {
  std::vector<ExperimentRef> out;
  for (const std::string& name : names) {
    if (std::any_of(out.begin(), out.end(), [&](const ExperimentRef& e) { return e.name == name; }))
      throw ConfigError(fmt::format("experiment '{}' is named twice", name));
    out.push_back({experiment_id(db, name), name});
  }
  return out;
}

std::vector<std::string> varying_parameters(Database& db, int64_t experiment_id) {
  // A key varies when two runs disagree on it, or when some runs have it and others do not.
  auto st = db.prepare(
      "SELECT p.key FROM params p JOIN runs r ON r.id = p.run_id WHERE r.experiment_id = ?1 GROUP BY p.key "
      "HAVING COUNT(DISTINCT p.value) > 1 OR COUNT(*) < (SELECT COUNT(*) FROM runs WHERE experiment_id = ?1) "
      "ORDER BY p.key");
  st.bind(1, experiment_id);
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.column_text(0));
  return out;
}

namespace {

// Element by element: json_each is a virtual table, which the read-only authorizer refuses.
std::vector<std::string> json_strings(Database& db, int64_t experiment_id, std::string_view column) {
  auto length = db.prepare(fmt::format("SELECT json_array_length({}) FROM experiments WHERE id = ?1", column));
  length.bind(1, experiment_id);
  const int64_t n = length.step() ? length.column_int(0) : 0;
  auto item = db.prepare(fmt::format("SELECT json_extract({}, '$[' || ?2 || ']') FROM experiments WHERE id = ?1", column));
  std::vector<std::string> out;
  for (int64_t i = 0; i < n; ++i) {
    item.bind(1, experiment_id).bind(2, i);
    if (item.step()) out.push_back(item.column_text(0));
    item.reset();
  }
  return out;
}

// The sweep and the [metrics.*] order of an experiment's stored TOML, read the way `gantry run`
// read them (expand_sweep's columns; toml++ sorts keys, so metrics go back to file order).
std::optional<ExperimentLayout> layout_from_toml(const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(std::string_view(source), std::string_view("stored TOML"));
  } catch (const toml::parse_error&) {
    return std::nullopt;
  }
  std::vector<std::string> problems;
  Sweep sweep = expand_sweep(root["sweep"].as_table(), "stored TOML", problems);
  if (!problems.empty()) return std::nullopt;
  ExperimentLayout layout{ExperimentLayout::Source::stored_toml, sweep.columns, {}};
  std::vector<std::tuple<int64_t, int64_t, std::string>> metrics;
  if (const toml::table* t = root["metrics"].as_table())
    for (auto&& [name, node] : *t) {
      const auto at = SourcePos::of("", name.source());
      metrics.emplace_back(at.line, at.column, std::string(name.str()));
    }
  std::sort(metrics.begin(), metrics.end());
  for (auto& m : metrics) layout.metrics.push_back(std::get<2>(m));
  return layout;
}

ExperimentLayout inferred_layout(Database& db, int64_t experiment_id) {
  ExperimentLayout layout{ExperimentLayout::Source::inferred, varying_parameters(db, experiment_id), {}};
  auto st = db.prepare(
      "SELECT DISTINCT substr(p.section, 9) FROM plugins p JOIN runs r ON r.id = p.run_id "
      "WHERE r.experiment_id = ?1 AND p.section LIKE 'metrics.%' ORDER BY 1");
  st.bind(1, experiment_id);
  while (st.step()) layout.metrics.push_back(st.column_text(0));
  return layout;
}

}  // namespace

ExperimentLayout experiment_layout(Database& db, const ExperimentRef& e) {
  // Read-only commands never migrate, so an older file may not even have the columns.
  if (db.column_exists("experiments", "sweep_columns")) {
    auto st = db.prepare("SELECT sweep_columns IS NOT NULL FROM experiments WHERE id = ?1");
    st.bind(1, e.id);
    if (st.step() && st.column_int(0) != 0)
      return {ExperimentLayout::Source::recorded, json_strings(db, e.id, "sweep_columns"),
              json_strings(db, e.id, "metrics")};
  }
  auto source = db.prepare("SELECT source FROM experiments WHERE id = ?1 AND source IS NOT NULL");
  source.bind(1, e.id);
  if (source.step())
    if (auto layout = layout_from_toml(source.column_text(0))) return *layout;
  return inferred_layout(db, e.id);
}

namespace {

std::vector<std::string> known_parameters(Database& db, const std::vector<ExperimentRef>& experiments) {
  std::set<std::string> known;
  auto keys = db.prepare(
      "SELECT DISTINCT p.key FROM params p JOIN runs r ON r.id = p.run_id WHERE r.experiment_id = ?1");
  for (const ExperimentRef& e : experiments) {
    keys.bind(1, e.id);
    while (keys.step()) known.insert(keys.column_text(0));
    keys.reset();
  }
  return {known.begin(), known.end()};
}

void check_parameters(Database& db, const std::vector<ExperimentRef>& experiments, const std::vector<std::string>& by) {
  const std::vector<std::string> known = known_parameters(db, experiments);
  for (const auto& k : by)
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      const auto close = closest_names(k, known);
      std::vector<std::string> names;
      for (const ExperimentRef& e : experiments) names.push_back(fmt::format("'{}'", e.name));
      throw ConfigError(fmt::format("{} {} {} no parameter '{}'{}", names.size() == 1 ? "experiment" : "experiments",
                                    fmt::join(names, ", "), names.size() == 1 ? "has" : "have", k,
                                    close.empty() ? "" : fmt::format(" (did you mean: {}?)", fmt::join(close, ", "))));
    }
}

std::string note_for(const ExperimentRef& e, ExperimentLayout::Source source) {
  if (source == ExperimentLayout::Source::stored_toml)
    return fmt::format("{} was last run before schema 6: its sweep is read from its stored TOML", e.name);
  return fmt::format("{} was last run before schema 6 and has no readable TOML: its sweep is taken to be the "
                     "parameters that vary",
                     e.name);
}

}  // namespace

Grouping resolve_grouping(Database& db, const std::vector<ExperimentRef>& experiments,
                          const std::vector<std::string>& by) {
  Grouping g;
  const bool several = experiments.size() > 1;
  if (several) g.by.push_back("experiment");
  if (!by.empty()) {
    check_parameters(db, experiments, by);
    g.by.insert(g.by.end(), by.begin(), by.end());
    g.description = fmt::format("grouped by {}", fmt::join(g.by, ", "));
    return g;
  }
  bool inferred_only = true;
  for (const ExperimentRef& e : experiments) {
    const ExperimentLayout layout = experiment_layout(db, e);
    if (layout.source != ExperimentLayout::Source::recorded) g.notes.push_back(note_for(e, layout.source));
    inferred_only = inferred_only && layout.source == ExperimentLayout::Source::inferred;
    for (const std::string& k : layout.sweep)
      if (std::find(g.by.begin(), g.by.end(), k) == g.by.end()) g.by.push_back(k);
  }
  const std::vector<std::string> swept(g.by.begin() + (several ? 1 : 0), g.by.end());
  const std::string what = several ? "experiment and their sweeps" : inferred_only ? "the parameters that vary" : "its sweep";
  if (!swept.empty()) g.description = fmt::format("grouped by {}: {}", what, fmt::join(swept, ", "));
  else if (several) g.description = "grouped by experiment (nothing swept)";
  else g.description = inferred_only ? "one group (no parameter varies)" : "one group (nothing swept)";
  return g;
}

std::map<int64_t, std::vector<std::string>> run_groups(Database& db, const std::vector<ExperimentRef>& experiments,
                                                       const std::vector<std::string>& by) {
  std::map<int64_t, std::vector<std::string>> out;
  auto runs = db.prepare("SELECT id FROM runs WHERE experiment_id = ?1");
  auto params = db.prepare(
      "SELECT p.run_id, p.key, p.value FROM params p JOIN runs r ON r.id = p.run_id WHERE r.experiment_id = ?1");
  for (const ExperimentRef& e : experiments) {
    runs.bind(1, e.id);
    while (runs.step()) {
      std::vector<std::string>& key = out[runs.column_int(0)];
      key.assign(by.size(), std::string(absent_cell));
      for (size_t i = 0; i < by.size(); ++i)
        if (by[i] == "experiment") key[i] = e.name;
    }
    runs.reset();
    params.bind(1, e.id);
    while (params.step()) {
      const auto it = std::find(by.begin(), by.end(), params.column_text(1));
      if (it != by.end()) out[params.column_int(0)][static_cast<size_t>(it - by.begin())] = params.column_text(2);
    }
    params.reset();
  }
  return out;
}

std::vector<std::string> metric_keys_of(Database& db, const std::vector<ExperimentRef>& experiments) {
  std::set<std::string> keys;
  auto st = db.prepare(
      "SELECT DISTINCT m.key FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.experiment_id = ?1");
  for (const ExperimentRef& e : experiments) {
    st.bind(1, e.id);
    while (st.step()) keys.insert(st.column_text(0));
    st.reset();
  }
  return {keys.begin(), keys.end()};
}

MetricChoice default_metric(Database& db, const ExperimentRef& e) {
  const ExperimentLayout layout = experiment_layout(db, e);
  if (layout.metrics.empty()) return {"", fmt::format("experiment '{}' has no metric plugin", e.name)};
  const std::string& first = layout.metrics.front();
  if (!db.column_exists("metric_keys", "is_primary"))
    return {"", "this database does not record which metric key is primary (it was written before schema 6)"};
  auto st = db.prepare(
      "SELECT key FROM metric_keys WHERE is_primary = 1 AND substr(key, 1, length(?1) + 1) = ?1 || '.'");
  st.bind(1, first);
  if (!st.step())
    return {"", fmt::format("the primary key of {} is not recorded (its plugin last ran before schema 6)", first)};
  const std::string key = st.column_text(0);
  const std::string list = fmt::format("{}", fmt::join(layout.metrics, ", "));
  std::string which;
  if (layout.metrics.size() == 1) which = fmt::format("the only metric of {}", e.name);
  else if (layout.source == ExperimentLayout::Source::inferred)
    which = fmt::format("the first by name of the metrics of {} ({}; their order is not recorded)", e.name, list);
  else which = fmt::format("the first metric of {} (its metrics: {})", e.name, list);
  return {key, fmt::format("{} is the primary key of {}, {}", key, first, which)};
}

}  // namespace gantry
