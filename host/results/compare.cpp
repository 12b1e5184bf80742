#include "results/compare.hpp"

#include "results/metric_sql.hpp"
#include "results/query.hpp"
#include "results/stats.hpp"
#include "util/text.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <set>

namespace gantry {

std::string shown_value(double value) { return fmt::format("{:.6g}", value); }

Spread parse_spread(std::string_view name) {
  if (name == "std") return Spread::stddev;
  if (name == "se") return Spread::std_error;
  throw ConfigError(fmt::format("--error takes std (the seeds' standard deviation) or se (the standard error of "
                                "the mean), not '{}'", name));
}

namespace {
void split_by_feature_network(Database& db, const std::vector<ExperimentRef>& exps, Comparison& c);
}  // namespace

std::vector<GroupCurve> group_curves(Database& db, const std::string& experiment, const std::string& metric,
                                     std::vector<std::string>& by, bool all_builds, bool with_running) {
  const std::vector<ExperimentRef> exps{{experiment_id(db, experiment), experiment}};
  const std::set<int64_t> hidden = all_builds ? std::set<int64_t>{} : superseded_runs(db, exps.front().id);
  // Curves measured in different feature networks are different curves, as in compare.
  Comparison grouping;
  grouping.metric = metric;
  grouping.by = resolve_grouping(db, exps, by).by;
  split_by_feature_network(db, exps, grouping);
  by = grouping.by;
  const auto groups = comparison_run_keys(db, exps, grouping);
  // group → step → values over runs
  std::map<std::vector<std::string>, std::map<int64_t, std::vector<double>>> points;
  auto m = db.prepare(fmt::format(
      "SELECT m.run_id, m.step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id "
      "WHERE r.experiment_id = ?1 AND r.status IN ('completed'{}) AND m.key = ?2 AND m.value IS NOT NULL",
      with_running ? ", 'running'" : ""));
  m.bind(1, exps.front().id).bind(2, metric);
  // Rows come run by run: the run's group is looked up once per run, not once per row (10,000 runs
  // of 100 steps are a million rows).
  int64_t last_run = -1;
  std::map<int64_t, std::vector<double>>* run_points = nullptr;
  while (m.step()) {
    const int64_t run = m.column_int(0);
    if (run != last_run) {
      last_run = run;
      run_points = hidden.contains(run) ? nullptr : &points[groups.at(run)];
    }
    if (run_points != nullptr) (*run_points)[m.column_int(1)].push_back(m.column_double(2));
  }
  std::vector<GroupCurve> out;
  for (const auto& [key, steps] : points) {
    GroupCurve c{key, {}, {}, {}, {}, {}, {}};
    for (const auto& [step, values] : steps) {
      const Summary s = summarize(values);
      c.steps.push_back(static_cast<double>(step));
      c.mean.push_back(s.mean);
      c.stddev.push_back(s.stddev);
      c.min.push_back(s.min);
      c.max.push_back(s.max);
      c.count.push_back(static_cast<int64_t>(values.size()));
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<double> GroupCurve::band(Spread spread) const {
  std::vector<double> out = stddev;
  if (spread == Spread::std_error)
    for (size_t i = 0; i < out.size(); ++i) out[i] = count[i] > 1 ? out[i] / std::sqrt(static_cast<double>(count[i])) : 0;
  return out;
}

std::string band_phrase(Spread spread) {
  return spread == Spread::std_error ? "standard error over seeds" : "std over seeds";
}

MetricChoice choose_metric(Database& db, const std::vector<ExperimentRef>& exps, const std::string& asked) {
  MetricChoice choice{asked, ""};
  if (asked.empty()) {
    choice = default_metric(db, exps.front());
    if (choice.key.empty())
      throw ConfigError(fmt::format("{}: {}; pass --metric (available: {})", exps.front().name, choice.reason,
                                    fmt::join(metric_keys_of(db, exps), ", ")));
  }
  auto known = db.prepare("SELECT 1 FROM metric_keys WHERE key = ?1");
  known.bind(1, choice.key);
  // One index seek per run until a value is found; listing every key would read every metric row.
  auto has_values = db.prepare(
      "SELECT 1 FROM runs r JOIN metrics m ON m.run_id = r.id AND m.key = ?2 WHERE r.experiment_id = ?1 LIMIT 1");
  bool found = false;
  for (const ExperimentRef& e : exps) {
    has_values.bind(1, e.id).bind(2, choice.key);
    found = found || has_values.step();
    has_values.reset();
  }
  if (!known.step() || !found) {
    const std::vector<std::string> keys = metric_keys_of(db, exps);
    std::string msg = fmt::format("unknown metric '{}' (available: {}", choice.key, fmt::join(keys, ", "));
    const auto close = closest_names(choice.key, keys);
    if (!close.empty()) msg += fmt::format("; did you mean: {}?", fmt::join(close, ", "));
    throw ConfigError(msg + ")");
  }
  return choice;
}

namespace {

std::optional<int64_t> parse_at(const std::string& at) {
  if (at == "final" || at == "best") return std::nullopt;
  // Digits only: from_chars refuses a sign, spaces and overflow, which stoll would not all refuse.
  int64_t step = 0;
  const auto [end, ec] = std::from_chars(at.data(), at.data() + at.size(), step);
  if (at.empty() || !std::isdigit(static_cast<unsigned char>(at.front())) || ec != std::errc() ||
      end != at.data() + at.size())
    throw ConfigError(fmt::format("--at takes final, best or a step number, not '{}'", at));
  return step;
}

// The feature network (weights' SHA-256, first 16 digits) each run of `exps` measured `metric` with,
// from its plugin's note "<plugin>.classifier_sha256"; runs without the note are left out.
std::map<int64_t, std::string> feature_networks_of(Database& db, const std::vector<ExperimentRef>& exps,
                                                   const std::string& metric) {
  std::map<int64_t, std::string> out;
  if (!db.table_exists("run_notes")) return out;
  auto st = db.prepare(
      "SELECT n.run_id, n.value FROM run_notes n JOIN runs r ON r.id = n.run_id "
      "WHERE r.experiment_id = ?1 AND n.key = ?2");
  for (const ExperimentRef& e : exps) {
    st.bind(1, e.id).bind(2, metric.substr(0, metric.find('.')) + ".classifier_sha256");
    while (st.step()) out[st.column_int(0)] = st.column_text(1).substr(0, 16);
    st.reset();
  }
  return out;
}

// Runs measured in different feature networks are not comparable: when there are several, each
// becomes part of the group key (a "feature network" column) and a note names them.
void split_by_feature_network(Database& db, const std::vector<ExperimentRef>& exps, Comparison& c) {
  std::set<std::string> distinct;
  for (const auto& [run, sha] : feature_networks_of(db, exps, c.metric)) distinct.insert(sha);
  if (distinct.size() < 2) return;
  c.by.push_back(std::string(feature_network_column));
  c.notes.push_back(fmt::format("{} measured with {} different feature networks ({}): grouped separately, since "
                                "their values are not comparable",
                                c.metric, distinct.size(), fmt::join(distinct, ", ")));
}

}  // namespace

std::map<int64_t, std::vector<std::string>> comparison_run_keys(Database& db, const std::vector<ExperimentRef>& exps,
                                                                const Comparison& c) {
  if (c.by.empty() || c.by.back() != feature_network_column) return run_groups(db, exps, c.by);
  auto keys = run_groups(db, exps, {c.by.begin(), c.by.end() - 1});
  const auto networks = feature_networks_of(db, exps, c.metric);
  for (auto& [run, key] : keys) {
    const auto it = networks.find(run);
    key.push_back(it == networks.end() ? std::string(absent_cell) : it->second);
  }
  return keys;
}

namespace {

// One group per key, holding each completed run's value; failed, diverged and unfinished runs counted.
std::map<std::vector<std::string>, CompareGroup> collect_groups(Database& db, const std::vector<ExperimentRef>& exps,
                                                                Comparison& c, bool all_builds) {
  const std::optional<int64_t> at_step = parse_at(c.at);
  split_by_feature_network(db, exps, c);
  const auto run_key = comparison_run_keys(db, exps, c);
  const std::string value_sql =
      at_step ? "SELECT value FROM metrics WHERE run_id = ?1 AND key = ?2 AND step = ?3"
      : c.at == "best" ? "SELECT " + metric_sql::best_value("?1", "?2", !c.higher_is_better)
                       : "SELECT " + metric_sql::final_value("?1", "?2");
  auto value = db.prepare(value_sql);
  std::map<std::vector<std::string>, CompareGroup> groups;
  auto runs = db.prepare("SELECT id, status, seed FROM runs WHERE experiment_id = ?1 ORDER BY id");
  for (const ExperimentRef& e : exps) {
    const std::set<int64_t> superseded = superseded_runs(db, e.id);
    runs.bind(1, e.id);
    while (runs.step()) {
      const int64_t id = runs.column_int(0);
      if (superseded.contains(id)) {
        ++c.superseded;
        if (!all_builds) continue;
      }
      const auto& key = run_key.at(id);
      CompareGroup& g = groups[key];
      g.key = key;
      const std::string status = runs.column_text(1);
      if (status == "failed") ++g.failed;
      else if (status == "diverged") ++g.diverged;
      else if (status != "completed") ++g.unfinished;
      if (status != "completed") continue;
      value.bind(1, id).bind(2, c.metric);
      if (at_step) value.bind(3, *at_step);
      if (value.step() && !value.column_is_null(0)) {
        g.values.push_back(value.column_double(0));
        g.seeds.push_back(runs.column_int(2));
      }
      value.reset();
    }
    runs.reset();
  }
  return groups;
}

// Best first. Means that show the same (shown_value) are a tie: they share a rank and are listed
// by key, so no group looks better than another for being first in the alphabet.
void rank_groups(std::vector<CompareGroup>& groups, bool higher_is_better) {
  std::sort(groups.begin(), groups.end(), [&](const CompareGroup& a, const CompareGroup& b) {
    if ((a.n > 0) != (b.n > 0)) return a.n > 0;
    if (a.n == 0 || shown_value(a.mean) == shown_value(b.mean)) return a.key < b.key;
    return higher_is_better ? a.mean > b.mean : a.mean < b.mean;
  });
  for (size_t i = 0; i < groups.size() && groups[i].n > 0; ++i) {
    const bool same = i > 0 && shown_value(groups[i].mean) == shown_value(groups[i - 1].mean);
    groups[i].rank = same ? groups[i - 1].rank : static_cast<long>(i) + 1;
    if (same) groups[i].tied = groups[i - 1].tied = true;
  }
}

// Welch's test of the one best group against the runner-up; against each of tied runner-ups,
// keeping the least separated, since the best is only separated if it is from all of them. Every
// other group with two values gets its own p against the best.
void test_best(Comparison& c) {
  auto& g = c.groups;
  if (g.size() < 2 || g[0].tied || g[1].rank == 0 || g[0].n < 2) return;
  if (c.reference == "best")
    for (size_t i = 1; i < g.size(); ++i)
      if (g[i].n > 1) g[i].p_vs_reference = welch_t_test(g[0].values, g[i].values).p;
  for (size_t i = 1; i < g.size() && g[i].rank == g[1].rank; ++i) {
    if (g[i].n < 2) {
      c.welch_t.reset(), c.welch_df.reset(), c.welch_p.reset();
      return;
    }
    const WelchTest w = welch_t_test(g[0].values, g[i].values);
    if (!c.welch_p || w.p > *c.welch_p) c.welch_t = w.t, c.welch_df = w.df, c.welch_p = w.p;
  }
}

// The group that every setting of `versus` (KEY=VALUE, KEY one of c.by) names; ConfigError when
// none or several do, listing the groups.
size_t reference_group(const Comparison& c, const std::vector<std::string>& versus) {
  std::vector<std::pair<size_t, std::string>> wanted;
  for (const std::string& setting : versus) {
    const size_t eq = setting.find('=');
    const auto column = eq == std::string::npos ? c.by.end() : std::find(c.by.begin(), c.by.end(), setting.substr(0, eq));
    if (column == c.by.end())
      throw ConfigError(fmt::format("--versus takes KEY=VALUE with KEY one of the grouping ({}), not '{}'",
                                    fmt::join(c.by, ", "), setting));
    wanted.emplace_back(static_cast<size_t>(column - c.by.begin()), setting.substr(eq + 1));
  }
  std::vector<size_t> found;
  std::vector<std::string> groups;
  for (size_t i = 0; i < c.groups.size(); ++i) {
    const auto& key = c.groups[i].key;
    groups.push_back(fmt::format("{}", fmt::join(key, " / ")));
    if (std::all_of(wanted.begin(), wanted.end(), [&](const auto& w) { return key[w.first] == w.second; }))
      found.push_back(i);
  }
  if (found.size() == 1) return found.front();
  throw ConfigError(fmt::format("--versus {} names {} groups; the groups ({}) are: {}", fmt::join(versus, " "),
                                found.empty() ? "no" : std::to_string(found.size()), fmt::join(c.by, " / "),
                                fmt::join(groups, "; ")));
}

// Every other group with two values against the group `versus` names.
void test_versus(Comparison& c, const std::vector<std::string>& versus) {
  const size_t r = reference_group(c, versus);
  c.reference = fmt::format("{}", fmt::join(versus, " "));
  const CompareGroup& ref = c.groups[r];
  if (ref.n < 2) return;
  for (size_t i = 0; i < c.groups.size(); ++i)
    if (i != r && c.groups[i].n > 1) c.groups[i].p_vs_reference = welch_t_test(ref.values, c.groups[i].values).p;
}

}  // namespace

Comparison compare_runs(Database& db, const CompareOptions& o) {
  if (o.experiments.empty()) throw ConfigError("name at least one experiment to compare");
  const std::vector<ExperimentRef> exps = find_experiments(db, o.experiments);
  Comparison c;
  c.experiments = o.experiments;
  c.at = o.at;
  c.spread = o.spread;
  const MetricChoice metric = choose_metric(db, exps, o.metric);
  c.metric = metric.key;
  c.metric_reason = metric.reason;
  auto direction = db.prepare("SELECT direction FROM metric_keys WHERE key = ?1");
  direction.bind(1, c.metric);
  c.higher_is_better = direction.step() && direction.column_text(0) == "higher";
  Grouping grouping = resolve_grouping(db, exps, o.by);
  c.by = std::move(grouping.by);
  c.grouping = std::move(grouping.description);
  c.notes = std::move(grouping.notes);
  for (auto& [key, g] : collect_groups(db, exps, c, o.all_builds)) {
    const Summary s = summarize(g.values);
    g.n = s.n, g.mean = s.mean, g.stddev = s.stddev, g.min = s.min, g.max = s.max;
    c.groups.push_back(std::move(g));
  }
  rank_groups(c.groups, c.higher_is_better);
  if (!o.versus.empty()) test_versus(c, o.versus);
  test_best(c);
  return c;
}

std::string rank_cell(const CompareGroup& g) {
  if (g.rank == 0) return "-";
  return fmt::format("{}{}", g.tied ? "=" : g.rank == 1 ? "*" : "", g.rank);
}

int shown_decimals(const Comparison& c) {
  double largest = 0;
  for (const CompareGroup& g : c.groups)
    if (g.n > 0 && std::isfinite(g.mean)) largest = std::max(largest, std::abs(g.mean));
  if (largest == 0) return 3;
  const int decade = static_cast<int>(std::floor(std::log10(largest)));
  const int finest = std::max(0, 5 - decade);
  for (int places = std::max(0, 2 - decade); places < finest; ++places) {
    bool distinct = true;
    for (size_t i = 1; i < c.groups.size() && c.groups[i].n > 0 && distinct; ++i)
      distinct = c.groups[i].rank == c.groups[i - 1].rank ||
                 fmt::format("{:.{}f}", c.groups[i].mean, places) != fmt::format("{:.{}f}", c.groups[i - 1].mean, places);
    if (distinct) return places;
  }
  return finest;
}

Table comparison_table(const Comparison& c, Format format) {
  Table t;
  t.columns = {"rank"};
  t.numeric = {false};
  for (const auto& b : c.by) t.columns.push_back(b), t.numeric.push_back(false);
  const bool se = c.spread == Spread::std_error;
  const bool data = format == Format::csv || format == Format::json;
  const int places = shown_decimals(c);
  for (const std::string& col : {std::string("n"), std::string("mean"), std::string(se ? "se" : "std"),
                                 std::string("min"), std::string("max"), "p vs " + c.reference, std::string("failed"),
                                 std::string("diverged")})
    t.columns.push_back(col), t.numeric.push_back(true);
  for (const CompareGroup& g : c.groups) {
    std::vector<std::string> row{rank_cell(g)};
    row.insert(row.end(), g.key.begin(), g.key.end());
    auto cell = [&](double v) { return data ? number_cell(v) : fmt::format("{:.{}f}", v, places); };
    auto num = [&](double v) { return g.n > 0 ? cell(v) : std::string(); };
    row.push_back(std::to_string(g.n));
    row.push_back(num(g.mean));
    row.push_back(g.n > 1 ? cell(se ? g.std_error() : g.stddev) : std::string());
    row.push_back(num(g.min));
    row.push_back(num(g.max));
    row.push_back(g.p_vs_reference ? fmt::format("{:.3g}", *g.p_vs_reference) : std::string());
    row.push_back(std::to_string(g.failed));
    row.push_back(std::to_string(g.diverged));
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string at_phrase(const std::string& at) {
  return at == "final" ? "at each run's last step" : at == "best" ? "at each run's best step" : "at step " + at;
}

std::string comparison_heading(const Comparison& c) {
  const std::string at = at_phrase(c.at);
  std::string out = fmt::format("{}: {} {} ({} is better), {}; completed runs only", fmt::join(c.experiments, ", "),
                                c.metric, at, c.higher_is_better ? "higher" : "lower", c.grouping);
  if (!c.metric_reason.empty()) out += fmt::format("\nmetric: {}; --metric chooses another", c.metric_reason);
  for (const std::string& note : c.notes) out += "\nnote: " + note;
  return out;
}

std::vector<std::string> comparison_footer(const Comparison& c) {
  std::vector<std::string> out;
  const bool any_tie = std::any_of(c.groups.begin(), c.groups.end(), [](const CompareGroup& g) { return g.tied; });
  if (any_tie) out.push_back("=: tied, the means are equal to 6 significant digits");
  const long best = std::count_if(c.groups.begin(), c.groups.end(), [](const CompareGroup& g) { return g.rank == 1; });
  const long ranked = std::count_if(c.groups.begin(), c.groups.end(), [](const CompareGroup& g) { return g.rank > 0; });
  if (best > 1)
    out.push_back(fmt::format("best: {} groups tie, so there is no single best to test against seed noise", best));
  else if (c.welch_p)
    out.push_back(fmt::format("best vs runner-up{}: Welch's t-test t = {:.3g}, df = {:.3g}, p = {:.3g}: {}",
                              c.groups.size() > 2 && c.groups[2].rank == c.groups[1].rank
                                  ? " (the least separated of the runner-ups tied)"
                                  : "",
                              *c.welch_t, *c.welch_df, *c.welch_p,
                              *c.welch_p < 0.05 ? "separated from seed noise (p < 0.05)"
                                                : "not separated from seed noise (p >= 0.05)"));
  else if (c.groups.size() >= 2 && ranked >= 1)
    out.push_back("best vs runner-up: needs at least two completed seeds in each to test for seed noise");
  const long tested =
      std::count_if(c.groups.begin(), c.groups.end(), [](const CompareGroup& g) { return g.p_vs_reference; });
  if (tested > 1)
    out.push_back(fmt::format("p vs {0}: Welch's t-test of each group against {1}; for all {2} differences to "
                              "hold at once, p < {3:.2g} (0.05/{2}, Bonferroni)",
                              c.reference, c.reference == "best" ? "the best" : "the group " + c.reference, tested,
                              0.05 / static_cast<double>(tested)));
  return out;
}

}  // namespace gantry
