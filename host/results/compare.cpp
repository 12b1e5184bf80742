#include "results/compare.hpp"

#include "results/query.hpp"
#include "results/stats.hpp"
#include "util/text.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <set>

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

std::vector<std::string> resolve_group_by(Database& db, int64_t exp, const std::string& experiment,
                                          const std::vector<std::string>& by) {
  if (by.empty()) return varying_parameters(db, exp);
  std::vector<std::string> known;
  auto keys = db.prepare(
      "SELECT DISTINCT p.key FROM params p JOIN runs r ON r.id = p.run_id WHERE r.experiment_id = ?1 ORDER BY 1");
  keys.bind(1, exp);
  while (keys.step()) known.push_back(keys.column_text(0));
  for (const auto& k : by)
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      const auto close = closest_names(k, known);
      throw ConfigError(fmt::format("experiment '{}' has no parameter '{}'{}", experiment, k,
                                    close.empty() ? "" : fmt::format(" (did you mean: {}?)", fmt::join(close, ", "))));
    }
  return by;
}

std::map<int64_t, std::vector<std::string>> run_groups(Database& db, int64_t exp, const std::vector<std::string>& by) {
  std::map<int64_t, std::vector<std::string>> out;
  auto runs = db.prepare("SELECT id FROM runs WHERE experiment_id = ?1");
  runs.bind(1, exp);
  while (runs.step()) out[runs.column_int(0)].resize(by.size());
  auto params = db.prepare(
      "SELECT p.run_id, p.key, p.value FROM params p JOIN runs r ON r.id = p.run_id WHERE r.experiment_id = ?1");
  params.bind(1, exp);
  while (params.step()) {
    const auto it = std::find(by.begin(), by.end(), params.column_text(1));
    if (it != by.end()) out[params.column_int(0)][static_cast<size_t>(it - by.begin())] = params.column_text(2);
  }
  return out;
}

std::vector<GroupCurve> group_curves(Database& db, const std::string& experiment, const std::string& metric,
                                     std::vector<std::string>& by, bool all_builds) {
  const int64_t exp = experiment_id(db, experiment);
  const std::set<int64_t> hidden = all_builds ? std::set<int64_t>{} : superseded_runs(db, exp);
  by = resolve_group_by(db, exp, experiment, by);
  const auto groups = run_groups(db, exp, by);
  // group → step → values over runs
  std::map<std::vector<std::string>, std::map<int64_t, std::vector<double>>> points;
  auto m = db.prepare(
      "SELECT m.run_id, m.step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id "
      "WHERE r.experiment_id = ?1 AND r.status = 'completed' AND m.key = ?2 AND m.value IS NOT NULL");
  m.bind(1, exp).bind(2, metric);
  while (m.step())
    if (!hidden.contains(m.column_int(0)))
      points[groups.at(m.column_int(0))][m.column_int(1)].push_back(m.column_double(2));
  std::vector<GroupCurve> out;
  for (const auto& [key, steps] : points) {
    GroupCurve c{key, {}, {}, {}};
    for (const auto& [step, values] : steps) {
      const Summary s = summarize(values);
      c.steps.push_back(static_cast<double>(step));
      c.mean.push_back(s.mean);
      c.stddev.push_back(s.stddev);
    }
    out.push_back(std::move(c));
  }
  return out;
}

Comparison compare_runs(Database& db, const CompareOptions& o) {
  Comparison c;
  c.experiment = o.experiment;
  c.metric = o.metric;
  c.at = o.at;
  const int64_t exp = experiment_id(db, o.experiment);

  auto direction = db.prepare("SELECT direction FROM metric_keys WHERE key = ?1");
  direction.bind(1, o.metric);
  if (!direction.step()) {
    std::vector<std::string> keys;
    auto all = db.prepare("SELECT key FROM metric_keys ORDER BY key");
    while (all.step()) keys.push_back(all.column_text(0));
    std::string msg = fmt::format("unknown metric '{}' (available: {}", o.metric, fmt::join(keys, ", "));
    const auto close = closest_names(o.metric, keys);
    if (!close.empty()) msg += fmt::format("; did you mean: {}?", fmt::join(close, ", "));
    throw ConfigError(msg + ")");
  }
  c.higher_is_better = direction.column_text(0) == "higher";

  std::optional<int64_t> at_step;
  if (o.at != "final" && o.at != "best") {
    try {
      size_t used = 0;
      at_step = std::stoll(o.at, &used);
      if (used != o.at.size()) throw std::invalid_argument(o.at);
    } catch (const std::exception&) {
      throw ConfigError(fmt::format("--at takes final, best or a step number, not '{}'", o.at));
    }
  }

  c.by = resolve_group_by(db, exp, o.experiment, o.by);
  std::map<int64_t, std::vector<std::string>> run_key = run_groups(db, exp, c.by);

  const std::string value_sql =
      at_step ? "SELECT value FROM metrics WHERE run_id = ?1 AND key = ?2 AND step = ?3"
      : o.at == "best"
          ? (c.higher_is_better ? "SELECT MAX(value) FROM metrics WHERE run_id = ?1 AND key = ?2"
                                : "SELECT MIN(value) FROM metrics WHERE run_id = ?1 AND key = ?2")
          : "SELECT value FROM metrics WHERE run_id = ?1 AND key = ?2 ORDER BY step DESC LIMIT 1";
  auto value = db.prepare(value_sql);
  std::map<std::vector<std::string>, CompareGroup> groups;
  const std::set<int64_t> superseded = superseded_runs(db, exp);
  auto runs = db.prepare("SELECT id, status, seed FROM runs WHERE experiment_id = ?1 ORDER BY id");
  runs.bind(1, exp);
  while (runs.step()) {
    const int64_t id = runs.column_int(0);
    if (superseded.contains(id)) {
      ++c.superseded;
      if (!o.all_builds) continue;
    }
    const auto& key = run_key[id];
    CompareGroup& g = groups[key];
    g.key = key;
    const std::string status = runs.column_text(1);
    if (status == "failed") ++g.failed;
    else if (status == "diverged") ++g.diverged;
    else if (status != "completed") ++g.unfinished;
    if (status != "completed") continue;
    value.bind(1, id).bind(2, o.metric);
    if (at_step) value.bind(3, *at_step);
    if (value.step() && !value.column_is_null(0)) {
      g.values.push_back(value.column_double(0));
      g.seeds.push_back(runs.column_int(2));
    }
    value.reset();
  }
  for (auto& [key, g] : groups) {
    const Summary s = summarize(g.values);
    g.n = s.n, g.mean = s.mean, g.stddev = s.stddev, g.min = s.min, g.max = s.max;
    c.groups.push_back(g);
  }
  std::stable_sort(c.groups.begin(), c.groups.end(), [&](const CompareGroup& a, const CompareGroup& b) {
    if ((a.n > 0) != (b.n > 0)) return a.n > 0;
    return c.higher_is_better ? a.mean > b.mean : a.mean < b.mean;
  });
  if (c.groups.size() >= 2 && c.groups[0].n >= 2 && c.groups[1].n >= 2) {
    const WelchTest w = welch_t_test(c.groups[0].values, c.groups[1].values);
    c.welch_t = w.t, c.welch_df = w.df, c.welch_p = w.p;
  }
  return c;
}

Table comparison_table(const Comparison& c) {
  Table t;
  t.columns = {"rank"};
  t.numeric = {false};
  for (const auto& b : c.by) t.columns.push_back(b), t.numeric.push_back(false);
  for (const char* col : {"n", "mean", "std", "min", "max", "failed", "diverged"})
    t.columns.push_back(col), t.numeric.push_back(true);
  int rank = 0;
  for (const CompareGroup& g : c.groups) {
    std::vector<std::string> row{g.n > 0 ? fmt::format("{}{}", rank == 0 ? "*" : "", rank + 1) : "-"};
    if (g.n > 0) ++rank;
    row.insert(row.end(), g.key.begin(), g.key.end());
    auto num = [&](double v) { return g.n > 0 ? fmt::format("{:.6g}", v) : std::string(); };
    row.push_back(std::to_string(g.n));
    row.push_back(num(g.mean));
    row.push_back(g.n > 1 ? fmt::format("{:.6g}", g.stddev) : std::string());
    row.push_back(num(g.min));
    row.push_back(num(g.max));
    row.push_back(std::to_string(g.failed));
    row.push_back(std::to_string(g.diverged));
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string comparison_heading(const Comparison& c) {
  const std::string at = c.at == "final" ? "at each run's last step" : c.at == "best" ? "at each run's best step"
                                                                                     : "at step " + c.at;
  return fmt::format("{}: {} {} ({} is better), grouped by {}; completed runs only", c.experiment, c.metric, at,
                     c.higher_is_better ? "higher" : "lower",
                     c.by.empty() ? std::string("nothing (one group)") : fmt::format("{}", fmt::join(c.by, ", ")));
}

std::string comparison_verdict(const Comparison& c) {
  if (!c.welch_p)
    return c.groups.size() >= 2 ? "best vs runner-up: needs at least two completed seeds in each to test for seed noise"
                                : "";
  return fmt::format("best vs runner-up: Welch's t-test t = {:.3g}, df = {:.3g}, p = {:.3g}: {}", *c.welch_t,
                     *c.welch_df, *c.welch_p,
                     *c.welch_p < 0.05 ? "separated from seed noise (p < 0.05)"
                                       : "not separated from seed noise (p >= 0.05)");
}

}  // namespace gantry
