#pragma once
// A stored run's trial, rebuilt from what the database keeps: its experiment's TOML (as last run)
// parsed against today's plugins, and the trial of it whose config identity is the run's. No
// settings are re-read from the params rows by hand, so a run is rebuilt exactly as gantry run
// built it: same resolution of defaults, sub-tables and sweeps.
#include "config/experiment.hpp"
#include "registry/registry.hpp"
#include "store/sqlite.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace gantry {

struct StoredTrial {
  int64_t run_id = 0;
  std::string experiment;  ///< its name
  std::string status;      ///< "completed", "interrupted", ...
  Experiment parsed;       ///< the experiment as last run (its plugins point into the registry)
  size_t trial = 0;        ///< the run's index in parsed.trials
  const TrialConfig& config() const { return parsed.trials[trial].config; }
};

/// Rebuilds run `run_id`'s trial. ConfigError (naming `db_path`) when there is no such run, its
/// experiment's TOML is not stored, or no trial of it has the run's settings any more (the
/// experiment was changed and run again since).
StoredTrial load_stored_trial(Database& db, const Registry& registry, int64_t run_id, const std::filesystem::path& db_path);

/// The runs a command names: "12" is run 12, anything else an experiment's name (all its runs, by
/// id). ConfigError listing the experiments when the name is unknown.
std::vector<int64_t> runs_named(Database& db, const std::string& run_or_experiment, const std::filesystem::path& db_path);

}  // namespace gantry
