// gantry slurm FILE: the sbatch script that runs an experiment with srun; --submit submits it.
#include "cli/commands.hpp"
#include "config/experiment.hpp"
#include "mpi/sbatch.hpp"
#include "registry/registry.hpp"
#include "util/process.hpp"

#include <gantry/error.hpp>

#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <sys/wait.h>
#include <unistd.h>

namespace gantry::cli {

namespace {

struct SlurmArgs {
  std::filesystem::path file, script;
  SbatchOptions options;
  bool submit = false;
};

std::filesystem::path self_path() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path("gantry") : p;
}

// Runs `sbatch --parsable SCRIPT` and returns the job id it prints.
std::string submit(const std::filesystem::path& script) {
  const std::string command = fmt::format("sbatch --parsable '{}' 2>&1", script.string());
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw Error("cannot run sbatch");
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw ConfigError(fmt::format("sbatch {} failed{}: {}", script.string(),
                                  WIFEXITED(status) && WEXITSTATUS(status) == 127 ? " (is SLURM installed?)" : "", out));
  return out.substr(0, out.find(';'));  // --parsable: "id" or "id;cluster"
}

}  // namespace

void add_slurm_command(CLI::App& app, GlobalOptions& global, int& result) {
  auto* cmd = app.add_subcommand("slurm", "write the sbatch script that runs an experiment on SLURM (--submit: submit it)");
  auto args = std::make_shared<SlurmArgs>();
  SbatchOptions& o = args->options;
  cmd->add_option("file", args->file, "experiment TOML file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--db", global.db, "results database (on a file system every node sees)")->capture_default_str();
  cmd->add_option("--nodes", o.nodes, "nodes")->capture_default_str();
  cmd->add_option("--tasks-per-node", o.tasks_per_node, "gantry ranks per node")->capture_default_str();
  cmd->add_option("-j,--jobs", o.jobs, "trials each rank runs at once")->capture_default_str();
  cmd->add_option("--threads", o.threads, "oneDNN threads per trial (cpus-per-task = jobs x threads)")->capture_default_str();
  cmd->add_option("--time", o.time, "time limit (minutes, HH:MM:SS or D-HH:MM:SS)")->capture_default_str();
  cmd->add_option("--partition", o.partition, "partition (default: the cluster's)");
  cmd->add_option("--account", o.account, "account to charge (default: yours)");
  cmd->add_option("--output", o.output, "file for the job's output (%j: the job id)")->capture_default_str();
  cmd->add_option("-o,--script", args->script, "write the script here (default: standard output; with --submit, NAME.sbatch)");
  cmd->add_flag("--submit", args->submit, "submit the script with sbatch and print the job id");
  cmd->callback([&global, &result, args] {
    SbatchOptions& opts = args->options;
    check_sbatch_options(opts);
    // The experiment is checked here, where mistakes are cheap, not in the queue.
    Registry registry;
    registry.discover(Registry::search_path(global.plugin_paths));
    const Experiment exp = load_experiment(args->file, registry);
    opts.job_name = exp.name;
    opts.gantry = self_path();
    opts.experiment = std::filesystem::absolute(args->file);
    opts.db = std::filesystem::absolute(global.db);
    for (const auto& p : global.plugin_paths) opts.plugin_paths.push_back(std::filesystem::absolute(p));
    const std::string script = sbatch_script(opts);
    std::filesystem::path file = args->script;
    if (file.empty() && args->submit) file = exp.name + ".sbatch";
    if (file.empty()) {
      std::cout << script;
    } else {
      std::ofstream out(file, std::ios::trunc);
      if (!(out << script) || !out.flush()) throw ConfigError(fmt::format("cannot write {}", file.string()));
      std::cout << fmt::format("wrote {}\n", file.string());
    }
    if (args->submit) std::cout << fmt::format("submitted job {}\n", submit(file));
    result = ExitCode::ok;
  });
}

}  // namespace gantry::cli
