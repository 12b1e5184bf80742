#pragma once
#include "results/table.hpp"
#include "store/sqlite.hpp"

#include <optional>
#include <string>
#include <vector>

namespace gantry {

struct CompareOptions {
  std::string experiment;
  std::string metric;            ///< e.g. "modes.high_quality"
  std::vector<std::string> by;   ///< parameter keys; empty: every parameter that varies across runs
  std::string at = "final";      ///< "final", "best", or a step number
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

/// Keys of the parameters whose values differ between the experiment's runs (its swept axes).
std::vector<std::string> varying_parameters(Database& db, int64_t experiment_id);
/// The experiment's id; ConfigError listing the experiments when there is none by that name.
int64_t experiment_id(Database& db, const std::string& name);

}  // namespace gantry
