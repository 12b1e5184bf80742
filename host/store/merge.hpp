#pragma once
// gantry merge: results produced apart (a laptop, a cluster without a shared file system) brought
// into one database, by identity, as if one gantry had run them all.
#include "store/store.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace gantry {

/// What merging one input did.
struct MergedInput {
  std::filesystem::path file;
  int experiments_added = 0;
  int runs_added = 0;     ///< runs the output did not have
  int runs_replaced = 0;  ///< the output's run of that identity was less finished
  int runs_kept = 0;      ///< the output's run was as finished or more (completed twice: results joined)
  int runs_unfinished = 0;  ///< were running or queued in the input: recorded interrupted
  int checkpoints = 0;      ///< checkpoint files copied
};

struct MergeReport {
  std::vector<MergedInput> inputs;
  /// One line each: results that disagree, and which one was kept.
  std::vector<std::string> conflicts;
  /// What is worth knowing but is no disagreement of results: an experiment whose TOML changed
  /// between the databases (a sweep grown on the cluster), a checkpoint file missing beside an input.
  std::vector<std::string> warnings;
};

/// Merges each input into the database at `out` (created if need be), one transaction per input, so an input either lands whole or
/// not at all. Experiments match by name and runs by (experiment, identity): a run is never
/// duplicated; of two runs with one identity the more finished stays (completed, then failed or
/// diverged, then interrupted; then the later step), and two completed ones are joined, every
/// metric, picture and note of either kept. Inputs are only read; an input of an older schema is
/// migrated in a temporary copy. Every input is checked before `out` is touched: a missing file, one
/// that is not a gantry database, or `out` itself among the inputs throws ConfigError.
MergeReport merge_databases(const std::filesystem::path& out, const std::vector<std::filesystem::path>& inputs);

}  // namespace gantry
