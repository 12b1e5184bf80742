#pragma once
// `gantry evaluate`: runs a metric plugin on stored checkpoints after the fact, through the same
// Evaluator the trainer measures with, and records the values as the run's own metric rows.
#include "registry/registry.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace gantry {

struct EvaluateOptions {
  std::string target;             ///< a run id, or an experiment's name (all its runs)
  std::string metric;             ///< a metric plugin's name
  std::vector<std::string> sets;  ///< "key=value" over the run's own settings of it (else its defaults)
  bool force = false;             ///< replace values already recorded at those steps
};

/// One run's evaluation: the steps scored (evaluation steps with a checkpoint), or why none.
struct EvaluatedRun {
  int64_t run_id = 0;
  std::vector<int64_t> steps;
  std::string skipped;  ///< non-empty: why the run was not evaluated
};

/// Evaluates every named run, writing each run's values and notes as it finishes it. Before
/// anything is computed, refuses (ConfigError listing runs and steps) when values of the metric's
/// keys are already recorded at steps it would score, unless options.force. `log` gets a line per run.
std::vector<EvaluatedRun> evaluate_stored(ResultStore& store, const Registry& registry, const EvaluateOptions& options,
                                          std::ostream& log);

}  // namespace gantry
