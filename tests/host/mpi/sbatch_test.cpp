#include "mpi/sbatch.hpp"

#include <gantry/error.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

SbatchOptions options() {
  SbatchOptions o;
  o.job_name = "loss study";
  o.gantry = "/opt/gantry/bin/gantry";
  o.experiment = "/home/ada/exp/it's.toml";
  o.db = "/shared/results/gantry.db";
  o.plugin_paths = {"/home/ada/plugins"};
  o.nodes = 4;
  o.tasks_per_node = 2;
  o.jobs = 3;
  o.threads = 2;
  o.time = "1-12:00:00";
  o.partition = "cpu";
  o.account = "lab-7";
  return o;
}

TEST(Sbatch, TheScriptIsExactlyThis) {
  EXPECT_EQ(sbatch_script(options()),
            "#!/bin/bash\n"
            "# Written by gantry slurm: one job runs experiment 'loss study'; submitting it again resumes it.\n"
            "#SBATCH --job-name=loss_study\n"
            "#SBATCH --nodes=4\n"
            "#SBATCH --ntasks-per-node=2\n"
            "#SBATCH --cpus-per-task=6\n"
            "#SBATCH --time=1-12:00:00\n"
            "#SBATCH --partition=cpu\n"
            "#SBATCH --account=lab-7\n"
            "#SBATCH --output=gantry-%j.out\n"
            "#SBATCH --signal=TERM@60\n"
            "set -euo pipefail\n"
            "export OMP_NUM_THREADS=2\n"
            "srun --mpi=pmix '/opt/gantry/bin/gantry' --plugin-path '/home/ada/plugins' run '/home/ada/exp/it'\\''s.toml' "
            "--db '/shared/results/gantry.db' --jobs 3 --threads 2 --progress plain\n");
}

TEST(Sbatch, DefaultsLeavePartitionAndAccountToTheCluster) {
  SbatchOptions o;
  o.job_name = std::string("tiny-study");
  o.gantry = std::filesystem::path("/usr/bin/gantry");
  o.experiment = std::filesystem::path("/home/ada/x.toml");
  o.db = std::filesystem::path("/home/ada/x.db");
  EXPECT_EQ(sbatch_script(o),
            "#!/bin/bash\n"
            "# Written by gantry slurm: one job runs experiment 'tiny-study'; submitting it again resumes it.\n"
            "#SBATCH --job-name=tiny-study\n#SBATCH --nodes=1\n#SBATCH --ntasks-per-node=1\n#SBATCH --cpus-per-task=1\n"
            "#SBATCH --time=01:00:00\n#SBATCH --output=gantry-%j.out\n#SBATCH --signal=TERM@60\n"
            "set -euo pipefail\nexport OMP_NUM_THREADS=1\n"
            "srun --mpi=pmix '/usr/bin/gantry' run '/home/ada/x.toml' --db '/home/ada/x.db' --jobs 1 --threads 1 --progress plain\n");
}

void expect_refused(SbatchOptions o, const std::string& message) {
  try {
    check_sbatch_options(o);
    FAIL() << "accepted; expected: " << message;
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(Sbatch, ValuesSlurmWouldNotReadAreRefused) {
  EXPECT_NO_THROW(check_sbatch_options(options()));
  for (const char* t : {"90", "30:00", "2:00:00", "2-0", "2-12:30"}) {
    SbatchOptions o = options();
    o.time = t;
    EXPECT_NO_THROW(check_sbatch_options(o)) << t;
  }
  SbatchOptions o = options();
  o.time = "2h";
  expect_refused(o, "--time '2h': expected minutes, HH:MM:SS or D-HH:MM:SS");
  o = options();
  o.partition = "cpu\n#SBATCH --x";
  expect_refused(o, "--partition 'cpu\n#SBATCH --x': letters, digits, '_', '.' and '-' only");
  o = options();
  o.account = "a b";
  expect_refused(o, "--account 'a b': letters, digits, '_', '.' and '-' only");
  o = options();
  o.output = "my log.txt";
  expect_refused(o, "--output 'my log.txt': a file name without spaces, quotes or backslashes");
  o = options();
  o.nodes = 0;
  expect_refused(o, "--nodes 0: at least 1");
}

}  // namespace
}  // namespace gantry
