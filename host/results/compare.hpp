#pragma once
#include "results/table.hpp"
#include "store/sqlite.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gantry {

struct CompareOptions {
  std::string experiment;
  std::string metric;            ///< e.g. "modes.high_quality"
  std::vector<std::string> by;   ///< parameter keys; empty: every parameter that varies across runs
  std::string at = "final";      ///< "final", "best", or a step number
  bool all_builds = false;       ///< include runs of superseded plugin builds (superseded_runs)
};

struct CompareGroup {
  std::vector<std::string> key;  ///< values of CompareOptions::by, in order ("" when a run lacks it)
  std::vector<double> values;    ///< one per completed run with the metric
  std::vector<int64_t> seeds;
  long n = 0;
  double mean = 0, stddev = 0, min = 0, max = 0;
  long failed = 0, diverged = 0, unfinished = 0;
};

struct Comparison {
  std::string experiment, metric, at;
  bool higher_is_better = true;
  std::vector<std::string> by;
  std::vector<CompareGroup> groups;  ///< best first; groups without values last
  size_t superseded = 0;             ///< runs of superseded plugin builds: left out, or in with all_builds
  /// Best against runner-up, when both have at least two values.
  std::optional<double> welch_t, welch_df, welch_p;
};

/// Groups the experiment's runs and summarises the metric per group. ConfigError for an unknown
/// experiment, metric or parameter (listing what exists).
Comparison compare_runs(Database& db, const CompareOptions& options);
Table comparison_table(const Comparison& c);
/// The lines printed above and below the table: what was compared, and the seed-noise verdict.
std::string comparison_heading(const Comparison& c);
std::string comparison_verdict(const Comparison& c);

/// The group-by keys: `by` checked against the experiment's parameters (ConfigError naming the
/// closest), or, when empty, the parameters that vary.
std::vector<std::string> resolve_group_by(Database& db, int64_t experiment_id, const std::string& experiment,
                                          const std::vector<std::string>& by);
/// Every run of the experiment with its group key (values of `by`, "" where a run lacks one).
std::map<int64_t, std::vector<std::string>> run_groups(Database& db, int64_t experiment_id,
                                                       const std::vector<std::string>& by);

/// Mean and standard deviation over completed runs of each group, per step.
struct GroupCurve {
  std::vector<std::string> key;
  std::vector<double> steps, mean, stddev;
};
std::vector<GroupCurve> group_curves(Database& db, const std::string& experiment, const std::string& metric,
                                     std::vector<std::string>& by, bool all_builds = false);

/// Keys of the parameters whose values differ between the experiment's runs (its swept axes).
std::vector<std::string> varying_parameters(Database& db, int64_t experiment_id);
/// The experiment's id; ConfigError listing the experiments when there is none by that name.
int64_t experiment_id(Database& db, const std::string& name);

}  // namespace gantry
