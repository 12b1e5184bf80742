#include "mpi/sbatch.hpp"

#include <gantry/error.hpp>

#include <cctype>
#include <fmt/format.h>
#include <regex>

namespace gantry {

namespace {

// For the shell: single quotes, with each ' written as '\''.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

void check_sbatch_options(const SbatchOptions& o) {
  // SLURM's time formats: minutes, minutes:seconds, hours:minutes:seconds, days-hours,
  // days-hours:minutes, days-hours:minutes:seconds.
  static const std::regex time_format(R"(^(\d+-\d+(:\d{1,2}){0,2}|\d+(:\d{1,2}){0,2})$)");
  static const std::regex name_format(R"(^[A-Za-z0-9_.-]*$)");
  if (!std::regex_match(o.time, time_format))
    throw ConfigError(fmt::format("--time '{}': expected minutes, HH:MM:SS or D-HH:MM:SS", o.time));
  if (!std::regex_match(o.partition, name_format))
    throw ConfigError(fmt::format("--partition '{}': letters, digits, '_', '.' and '-' only", o.partition));
  if (!std::regex_match(o.account, name_format))
    throw ConfigError(fmt::format("--account '{}': letters, digits, '_', '.' and '-' only", o.account));
  // #SBATCH lines are not shell: no quoting there, so no character that would need it.
  if (o.output.empty() || o.output.find_first_of(" \t\n\r'\"\\") != std::string::npos)
    throw ConfigError(fmt::format("--output '{}': a file name without spaces, quotes or backslashes", o.output));
  for (const auto& [name, value] : {std::pair<const char*, int>{"--nodes", o.nodes}, {"--tasks-per-node", o.tasks_per_node},
                                    {"--jobs", o.jobs}, {"--threads", o.threads}})
    if (value < 1) throw ConfigError(fmt::format("{} {}: at least 1", name, value));
}

std::string sbatch_script(const SbatchOptions& o) {
  std::string s = "#!/bin/bash\n";
  s += fmt::format("# Written by gantry slurm: one job runs experiment '{}'; submitting it again resumes it.\n",
                   o.job_name);
  std::string name = o.job_name;  // a SLURM job name, shown by squeue: experiment names may hold more
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') c = '_';
  s += fmt::format("#SBATCH --job-name={}\n", name);
  s += fmt::format("#SBATCH --nodes={}\n#SBATCH --ntasks-per-node={}\n", o.nodes, o.tasks_per_node);
  s += fmt::format("#SBATCH --cpus-per-task={}\n", o.jobs * o.threads);
  s += fmt::format("#SBATCH --time={}\n", o.time);
  if (!o.partition.empty()) s += fmt::format("#SBATCH --partition={}\n", o.partition);
  if (!o.account.empty()) s += fmt::format("#SBATCH --account={}\n", o.account);
  s += fmt::format("#SBATCH --output={}\n", o.output);
  // SLURM sends SIGTERM at the time limit and SIGKILL KillWait seconds later: gantry's rank 0
  // records the running trials interrupted in between.
  s += "#SBATCH --signal=TERM@60\n";
  s += "set -euo pipefail\n";
  s += "export OMP_NUM_THREADS=" + std::to_string(o.threads) + "\n";
  std::string plugins;
  for (const auto& p : o.plugin_paths) plugins += " --plugin-path " + quoted(p.string());
  s += fmt::format("srun --mpi=pmix {}{} run {} --db {} --jobs {} --threads {} --progress plain\n", quoted(o.gantry.string()),
                   plugins, quoted(o.experiment.string()), quoted(o.db.string()), o.jobs, o.threads);
  return s;
}

}  // namespace gantry
