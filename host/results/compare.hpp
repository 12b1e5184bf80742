#pragma once
#include "results/grouping.hpp"
#include "results/table.hpp"
#include "store/sqlite.hpp"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace gantry {

/// What the ± of a comparison is: the spread of the seeds, or the standard error of their mean
/// (std/√n), the error bar most papers print.
enum class Spread { stddev, std_error };
/// "std" or "se"; ConfigError otherwise.
Spread parse_spread(std::string_view name);

struct CompareOptions {
  std::vector<std::string> experiments;  ///< one or more names; several are compared side by side
  std::string metric;                    ///< e.g. "modes.high_quality"; empty: default_metric of the first experiment
  std::vector<std::string> by;           ///< parameter keys; empty: the experiments' sweeps
  std::string at = "final";              ///< "final", "best", or a step number
  bool all_builds = false;              ///< include runs of superseded plugin builds (superseded_runs)
  Spread spread = Spread::stddev;        ///< what the table's spread column holds
  /// KEY=VALUE settings naming one group (e.g. loss.plugin=nonsaturating) that every other group
  /// is tested against; empty: the best group.
  std::vector<std::string> versus{};
};

struct CompareGroup {
  std::vector<std::string> key;  ///< values of Comparison::by, in order (absent_cell when a run lacks one)
  std::vector<double> values;    ///< one per completed run with the metric
  std::vector<int64_t> seeds;
  long n = 0;
  double mean = 0, stddev = 0, min = 0, max = 0;
  long failed = 0, diverged = 0, unfinished = 0;
  long rank = 0;      ///< 1 is best; means equal to 6 significant digits share a rank; 0 without values
  bool tied = false;  ///< another group has the same rank
  /// Welch's test of this group against the reference group (the one best, or CompareOptions::
  /// versus), when there is one and both have two values.
  std::optional<double> p_vs_reference;
  /// std/√n; 0 below two values.
  double std_error() const { return n > 1 ? stddev / std::sqrt(static_cast<double>(n)) : 0; }
};

struct Comparison {
  std::vector<std::string> experiments;
  std::string metric, at;
  std::string metric_reason;  ///< why this metric when none was asked for; empty when one was
  bool higher_is_better = true;
  Spread spread = Spread::stddev;
  std::string reference = "best";  ///< what p_vs_reference tests against: "best" or the versus settings
  std::vector<std::string> by;
  std::string grouping;            ///< Grouping::description
  std::vector<std::string> notes;  ///< Grouping::notes
  std::vector<CompareGroup> groups;  ///< best first; groups without values last
  size_t superseded = 0;             ///< runs of superseded plugin builds: left out, or in with all_builds
  /// Best against runner-up, when there is one best and both have at least two values. With
  /// several runner-ups tied, the least separated of them (the largest p).
  std::optional<double> welch_t, welch_df, welch_p;
};

/// `asked`, or when empty default_metric of the first experiment (reason set); ConfigError for a key
/// the experiments have no values of, listing theirs, and when no default is recorded.
MetricChoice choose_metric(Database& db, const std::vector<ExperimentRef>& experiments, const std::string& asked);
/// Groups the experiments' runs and summarises the metric per group. ConfigError for an unknown
/// experiment, metric or parameter (listing what exists).
Comparison compare_runs(Database& db, const CompareOptions& options);

/// The column a comparison adds when its runs were measured in several feature networks.
inline constexpr std::string_view feature_network_column = "feature network";
/// Each run's group key in `c` (its `by` values; with the feature network column, the run's
/// network), as compare_runs grouped them.
std::map<int64_t, std::vector<std::string>> comparison_run_keys(Database& db, const std::vector<ExperimentRef>& exps,
                                                                const Comparison& c);
/// A mean to 6 significant digits: groups whose means are equal so are tied.
std::string shown_value(double value);
/// The decimal places a comparison's table gives its mean, error, min and max: three significant
/// digits of the largest mean, more where two groups of different rank would otherwise show the
/// same mean, up to the largest mean's sixth digit (where ties are decided).
int shown_decimals(const Comparison& c);
/// A group's rank as the tables show it: "*1" the one best, "=3" a rank shared, "-" no values.
std::string rank_cell(const CompareGroup& g);
/// One row per group. Format::table, markdown (and the HTML pages, which pass table) show the
/// numbers to one decimal place (shown_decimals), so a column reads at a glance; csv and json give
/// each number exactly (number_cell).
Table comparison_table(const Comparison& c, Format format = Format::table);
/// "at each run's last step", "… best step" or "at step N", for CompareOptions::at.
std::string at_phrase(const std::string& at);
/// The lines printed above the table: what was compared, which metric and why, fallbacks taken.
std::string comparison_heading(const Comparison& c);
/// The lines printed below it: what a tie means (when there is one) and the seed-noise verdict.
std::vector<std::string> comparison_footer(const Comparison& c);

/// Mean and standard deviation over completed runs of each group, per step.
struct GroupCurve {
  std::vector<std::string> key;
  std::vector<double> steps, mean, stddev;
  std::vector<double> min, max;  ///< the range of the runs' values at each step
  std::vector<int64_t> count;    ///< how many runs have a value at each step
  /// The ± at each step: the seeds' std, or the standard error of their mean (std/√n).
  std::vector<double> band(Spread spread) const;
};
/// "std over seeds" or "standard error over seeds": what a curve's band shows.
std::string band_phrase(Spread spread);
/// `by` empty: the experiment's sweep, written back into `by`. `with_running` adds the points of
/// runs still running (a live view), which are otherwise left out like any unfinished run.
std::vector<GroupCurve> group_curves(Database& db, const std::string& experiment, const std::string& metric,
                                     std::vector<std::string>& by, bool all_builds = false, bool with_running = false);

}  // namespace gantry
