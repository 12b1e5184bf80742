#pragma once
#include "config/experiment.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace gantry {

struct PreflightOptions {
  int jobs = 1;                 ///< trials that will run at once: each gets memory_budget / jobs
  uint64_t memory_budget = 0;   ///< bytes for all jobs together; 0 = the machine's memory
  double seconds_per_config = 60;  ///< a rehearsal that takes longer is abandoned, with a warning
  double seconds_in_all = 300;     ///< no rehearsal starts after this long; a warning says so
  size_t max_configs = 64;      ///< distinct configurations rehearsed at most
};

struct PreflightReport {
  /// "file:line:column: message", one per problem: configurations no run of which could work.
  std::vector<std::string> problems;
  /// Things the user should know that do not stop the run (a plugin that crashed when built).
  std::vector<std::string> warnings;
  size_t configs = 0, rehearsed = 0;
};

/// Before anything is written: builds each distinct configuration of the experiment once, in a
/// throwaway contained worker, takes one training step, and measures its memory. Plugin errors
/// (a generator that cannot make the data's shape, a data path that does not exist, a penalty
/// on a batch-coupled critic) and trials that cannot fit in a job's memory become problems
/// located in the file.
PreflightReport preflight(const Experiment& exp, const PreflightOptions& options);

}  // namespace gantry
