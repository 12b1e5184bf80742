#pragma once
// gantry slurm: the sbatch script that runs one experiment on a SLURM allocation.
#include <filesystem>
#include <string>
#include <vector>

namespace gantry {

struct SbatchOptions {
  std::string job_name;                ///< the experiment's name
  std::filesystem::path gantry;        ///< the gantry binary, absolute
  std::filesystem::path experiment;    ///< absolute
  std::filesystem::path db;            ///< absolute: every node's rank 0 must reach the same file
  std::vector<std::filesystem::path> plugin_paths;  ///< --plugin-path folders, absolute
  int nodes = 1, tasks_per_node = 1;
  int jobs = 1, threads = 1;           ///< per rank; cpus-per-task = jobs × threads
  std::string time = "01:00:00";
  std::string partition, account;      ///< empty: the cluster's defaults
  std::string output = "gantry-%j.out";
};

/// Throws ConfigError naming the option when a value would not make a valid script (a time SLURM
/// does not read, a partition or account with characters no SLURM name has, counts below 1).
void check_sbatch_options(const SbatchOptions& options);

/// The script: #SBATCH lines, then `srun` running `gantry run` on every task. Rerunning the same
/// script resumes the experiment.
std::string sbatch_script(const SbatchOptions& options);

}  // namespace gantry
