#pragma once
// A paper's table: several metrics of the same groups side by side, each as mean ± error bar.
#include "results/compare.hpp"
#include "results/table.hpp"

#include <string>
#include <vector>

namespace gantry {

/// A mean and its error bar as papers print them: the error to two significant digits when it
/// starts with a 1 (one otherwise), the mean to the same decimal place: "6.3 ± 0.5", "95.9 ± 1.4",
/// "0.07 ± 0.02", "1230 ± 40". Without an error (NaN: one value) the mean alone to 3 digits; with an error of 0, those
/// 3 digits and "± 0".
std::string mean_with_error(double mean, double error);

/// One row per group, ranked as `per_metric.front()` ranks them, and one "mean ± error" cell per
/// metric (for CSV and JSON two numeric columns, the mean and the error); after the first metric,
/// its "p vs best" (or vs the --versus group) column when any group was tested. The comparisons must be
/// of the same experiments and grouping, one per metric.
Table summary_table(const std::vector<Comparison>& per_metric, Format format);
/// What a summary table shows: its metrics with their directions, the grouping and the ±.
std::string summary_heading(const std::vector<Comparison>& per_metric);

}  // namespace gantry
