#include "results/summary.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>

namespace gantry {

std::string mean_with_error(double mean, double error) {
  if (!std::isfinite(mean)) return fmt::format("{}", mean);
  if (std::isnan(error)) return fmt::format("{:.3g}", mean);
  // No spread: nothing fixes a decimal place, so the mean gets the digits a one-value cell gets.
  if (!(error > 0) || !std::isfinite(error)) return fmt::format("{:.3g} ± {}", mean, error);
  // The decimal place of the error's last significant digit: two digits when it starts with a 1
  // (a lone 1 would round away up to a third of it), one otherwise, as papers' tables print.
  int decade = static_cast<int>(std::floor(std::log10(error)));
  double leading = error / std::pow(10.0, decade);
  if (leading >= 10) leading /= 10, ++decade;  // log10 of an exact power of ten can fall just short
  if (leading < 1) leading *= 10, --decade;
  const int place = decade - (leading < 2 ? 1 : 0);  // 10^place is the last digit shown
  if (place >= 0) {
    const double unit = std::pow(10.0, place);
    return fmt::format("{:.0f} ± {:.0f}", std::round(mean / unit) * unit, std::round(error / unit) * unit);
  }
  return fmt::format("{:.{}f} ± {:.{}f}", mean, -place, error, -place);
}

namespace {

double spread_of(const CompareGroup& g, Spread spread) {
  if (g.n < 2) return std::nan("");
  return spread == Spread::std_error ? g.std_error() : g.stddev;
}

std::string spread_name(Spread spread) { return spread == Spread::std_error ? "se" : "std"; }

}  // namespace

Table summary_table(const std::vector<Comparison>& per_metric, Format format) {
  if (per_metric.empty()) throw ConfigError("a summary needs at least one metric");
  const Comparison& first = per_metric.front();
  const bool cells = format == Format::table || format == Format::markdown;
  Table t;
  t.columns = {"rank"};
  t.columns.insert(t.columns.end(), first.by.begin(), first.by.end());
  t.columns.push_back("n");
  t.numeric.assign(t.columns.size(), false);
  t.numeric.back() = true;
  // The ranking metric's t-test of each group against the best (or --versus), which the footer explains.
  const bool tests_groups =
      std::any_of(first.groups.begin(), first.groups.end(), [](const CompareGroup& g) { return g.p_vs_reference; });
  std::vector<std::map<std::vector<std::string>, const CompareGroup*>> by_key(per_metric.size());
  for (size_t m = 0; m < per_metric.size(); ++m) {
    const Comparison& c = per_metric[m];
    for (const CompareGroup& g : c.groups) by_key[m][g.key] = &g;
    if (cells) {
      t.columns.push_back(c.metric), t.numeric.push_back(false);
    } else {
      t.columns.push_back(c.metric), t.numeric.push_back(true);
      t.columns.push_back(c.metric + " " + spread_name(c.spread)), t.numeric.push_back(true);
    }
    if (m == 0 && tests_groups) t.columns.push_back("p vs " + c.reference), t.numeric.push_back(true);
  }
  for (const CompareGroup& g : first.groups) {
    std::vector<std::string> row{rank_cell(g)};
    row.insert(row.end(), g.key.begin(), g.key.end());
    row.push_back(std::to_string(g.n));
    for (size_t m = 0; m < per_metric.size(); ++m) {
      const auto found = by_key[m].find(g.key);
      const CompareGroup* h = found == by_key[m].end() || found->second->n == 0 ? nullptr : found->second;
      const double error = h != nullptr ? spread_of(*h, per_metric[m].spread) : std::nan("");
      if (cells) {
        row.push_back(h != nullptr ? mean_with_error(h->mean, error) : std::string());
      } else {
        row.push_back(h != nullptr ? number_cell(h->mean) : std::string());
        row.push_back(h != nullptr ? number_cell(error) : std::string());
      }
      if (m == 0 && tests_groups)
        row.push_back(g.p_vs_reference ? fmt::format("{:.3g}", *g.p_vs_reference) : std::string());
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string summary_heading(const std::vector<Comparison>& per_metric) {
  const Comparison& first = per_metric.front();
  std::vector<std::string> metrics;
  for (const Comparison& c : per_metric)
    metrics.push_back(fmt::format("{} ({} is better)", c.metric, c.higher_is_better ? "higher" : "lower"));
  const std::string at = at_phrase(first.at);
  const std::string spread = first.spread == Spread::std_error ? "mean ± standard error of the mean (std/√n)"
                                                               : "mean ± standard deviation";
  std::string out = fmt::format("{}: {} {}, {}; completed runs only; {} over seeds; ranked by {}",
                                fmt::join(first.experiments, ", "), fmt::join(metrics, ", "), at, first.grouping,
                                spread, first.metric);
  for (const std::string& note : first.notes) out += "\nnote: " + note;
  return out;
}

}  // namespace gantry
