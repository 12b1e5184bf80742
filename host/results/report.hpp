#pragma once
#include "store/sqlite.hpp"

#include <string>
#include <vector>

namespace gantry {

/// Curves of one metric over steps, one line per group with a ±std band over seeds, as PNG.
std::string plot_metric(Database& db, const std::string& experiment, const std::string& metric,
                        std::vector<std::string> by, bool all_builds = false);

/// One self-contained HTML page (inline CSS, pictures as data: URIs, no network): for every metric
/// the comparison table and the curves, and the latest samples of the best run of each group by
/// `primary_metric` (the first non-loss metric when empty). Runs of superseded plugin builds are
/// left out unless `all_builds`.
std::string html_report(Database& db, const std::string& experiment, std::string primary_metric = "",
                        bool all_builds = false);

}  // namespace gantry
