#pragma once
// What "final" and "best" mean, in SQL, once for every reader (compare, the browser's pages, the
// run_results view of schema 2, which spells the same): a run's final value of a metric is the one
// at its last recorded step, its best the minimum or maximum by the metric's direction. Each is a
// scalar subquery over the metrics table's primary key (run_id, key, step): one index range.
#include <fmt/format.h>

#include <string>
#include <string_view>

namespace gantry::metric_sql {

/// The value of metric `key` at run `run`'s last step that has one (SQL expressions: "?1", "m.key").
inline std::string final_value(std::string_view run, std::string_view key) {
  return fmt::format("(SELECT value FROM metrics WHERE run_id = {} AND key = {} ORDER BY step DESC LIMIT 1)", run, key);
}

/// The best value of metric `key` in run `run`: its minimum when lower is better, else its maximum.
inline std::string best_value(std::string_view run, std::string_view key, bool lower_is_better) {
  return fmt::format("(SELECT {}(value) FROM metrics WHERE run_id = {} AND key = {})", lower_is_better ? "MIN" : "MAX",
                     run, key);
}

/// The same, with the direction read per row from metric_keys (the alias `k`, LEFT JOINed on the
/// key: a key without a row counts as higher-is-better, as everywhere).
inline std::string best_value_by_direction(std::string_view run, std::string_view key) {
  return fmt::format("CASE WHEN k.direction = 'lower' THEN {} ELSE {} END", best_value(run, key, true),
                     best_value(run, key, false));
}

}  // namespace gantry::metric_sql
