#pragma once
// What comparisons group by and which metric they default to: an experiment's sweep and metrics
// as recorded when it was last run (schema 5), with fallbacks for databases written before.
#include "store/sqlite.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace gantry {

/// The cell of a parameter a run does not have (minimax has no loss.mode); an empty string is a
/// value of its own.
inline constexpr std::string_view absent_cell = "—";

struct ExperimentRef {
  int64_t id = 0;
  std::string name;
};
/// The experiment's id; ConfigError listing the experiments when there is none by that name.
int64_t experiment_id(Database& db, const std::string& name);
/// The named experiments, in order; ConfigError for an unknown or repeated name.
std::vector<ExperimentRef> find_experiments(Database& db, const std::vector<std::string>& names);

/// What an experiment swept and which metrics it measured, in file order, as it was last run.
struct ExperimentLayout {
  enum class Source {
    recorded,     ///< stored by `gantry run` (schema 5 on)
    stored_toml,  ///< last run before schema 5: read from the experiment's stored TOML
    inferred,     ///< no readable TOML either: the parameters that vary, the metrics by name
  };
  Source source = Source::recorded;
  std::vector<std::string> sweep;    ///< params keys: "loss.plugin", "optimizer.lr"
  std::vector<std::string> metrics;  ///< metric plugins: "modes", "disc_accuracy"
};
ExperimentLayout experiment_layout(Database& db, const ExperimentRef& experiment);

/// Keys of the parameters whose values differ between the experiment's runs (or that only some
/// runs have).
std::vector<std::string> varying_parameters(Database& db, int64_t experiment_id);

/// How runs are grouped, and how that was decided.
struct Grouping {
  std::vector<std::string> by;     ///< the key's columns: "experiment" first when several, then params keys
  std::string description;         ///< "grouped by its sweep: loss.plugin, optimizer.lr", "one group (nothing swept)"
  std::vector<std::string> notes;  ///< the fallbacks taken for experiments last run before schema 5
};
/// By `by` when given (each key checked against the experiments' parameters, ConfigError naming
/// the closest), else by the union of the experiments' sweeps, in order.
Grouping resolve_grouping(Database& db, const std::vector<ExperimentRef>& experiments,
                          const std::vector<std::string>& by);
/// Every run of the experiments with its group key: one cell per `by` column, the experiment's
/// name for "experiment", absent_cell where a run has no such parameter.
std::map<int64_t, std::vector<std::string>> run_groups(Database& db, const std::vector<ExperimentRef>& experiments,
                                                       const std::vector<std::string>& by);

/// The metric compare and report default to: the primary key of the experiment's first metric.
struct MetricChoice {
  std::string key;     ///< empty when it cannot be known
  std::string reason;  ///< why this key ("modes.modes is the primary key of modes, ..."), or why none
};
MetricChoice default_metric(Database& db, const ExperimentRef& experiment);
/// The metric keys the experiments have values of, sorted.
std::vector<std::string> metric_keys_of(Database& db, const std::vector<ExperimentRef>& experiments);

}  // namespace gantry
