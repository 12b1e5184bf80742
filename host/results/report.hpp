#pragma once
#include "results/compare.hpp"
#include "store/sqlite.hpp"

#include <string>
#include <vector>

namespace gantry {

/// Curves of one metric over steps, one line per group with a band of ± `spread` over seeds, as
/// PNG. `metric` empty: the primary key of the experiment's first metric (choose_metric). Runs of
/// superseded plugin builds are left out unless `all_builds`.
std::string plot_metric(Database& db, const std::string& experiment, std::string metric, std::vector<std::string> by,
                        bool all_builds = false, Spread spread = Spread::stddev);

/// One self-contained HTML page (inline CSS, pictures as data: URIs, no network): for every metric
/// the comparison table and the curves, and the latest samples of the best run of each group by
/// `metric` (empty: default_metric, the primary key of the experiment's first metric), all tied
/// runs named. Runs of superseded plugin builds are left out unless `all_builds`.
std::string html_report(Database& db, const std::string& experiment, std::string metric = "", bool all_builds = false);

}  // namespace gantry
