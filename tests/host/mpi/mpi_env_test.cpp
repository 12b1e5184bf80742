#include "mpi/coordinator.hpp"
#include "mpi/mpi_env.hpp"

#include <gtest/gtest.h>

namespace gantry {
namespace {

using Env = std::map<std::string, std::string, std::less<>>;

TEST(MpiLaunch, OpenMpiMpirunIsDetected) {
  const auto l = detect_launch(Env{{"OMPI_COMM_WORLD_RANK", "2"}, {"OMPI_COMM_WORLD_SIZE", "3"}, {"PMIX_RANK", "2"}});
  ASSERT_TRUE(l);
  EXPECT_EQ(l->rank, 2);
  EXPECT_EQ(l->size, 3);
  EXPECT_EQ(l->launcher, "mpirun (Open MPI)");
}

TEST(MpiLaunch, SrunIsDetectedWithOrWithoutPmix) {
  auto l = detect_launch(Env{{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "4"}});
  ASSERT_TRUE(l);
  EXPECT_EQ(l->rank, 1);
  EXPECT_EQ(l->size, 4);
  EXPECT_EQ(l->launcher, "srun");
  l = detect_launch(Env{{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "4"}, {"PMIX_RANK", "1"}});
  ASSERT_TRUE(l);
  EXPECT_EQ(l->launcher, "srun (PMIx)");
}

// One task of an sbatch script, a plain shell, a single-process mpirun, nonsense: a local run.
TEST(MpiLaunch, OneProcessOrNoLauncherIsALocalRun) {
  EXPECT_FALSE(detect_launch(Env{}));
  EXPECT_FALSE(detect_launch(Env{{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}, {"SLURM_JOB_ID", "12"}}));
  EXPECT_FALSE(detect_launch(Env{{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "1"}}));
  EXPECT_FALSE(detect_launch(Env{{"OMPI_COMM_WORLD_RANK", "x"}, {"OMPI_COMM_WORLD_SIZE", "3"}}));
  EXPECT_FALSE(detect_launch(Env{{"OMPI_COMM_WORLD_RANK", "3"}, {"OMPI_COMM_WORLD_SIZE", "3"}}));
  EXPECT_FALSE(detect_launch(Env{{"PMI_RANK", "1"}}));
}

mpi::Hello hello(int rank, std::string sha) {
  mpi::Hello h;
  h.rank = rank;
  h.host = "node" + std::to_string(rank);
  h.fingerprint = "gantry 0.1.0; GCC 12; libstdc++ cxx11 ABI 1";
  h.abi = 9;
  h.slots = 1;
  h.plugins = {{"loss", "hinge", "1.0.0", sha, "/a/libloss_hinge.so"}};
  h.identities = {"id-" + sha};
  return h;
}

TEST(MpiHandshake, TheSameContentElsewhereIsNoDifference) {
  mpi::Hello other = hello(1, std::string(64, 'a'));
  other.plugins[0].file = "/b/libloss_hinge.so";
  EXPECT_TRUE(differences(hello(0, std::string(64, 'a')), other).empty());
}

TEST(MpiHandshake, ADifferentPluginNamesHostRankAndBothFiles) {
  mpi::Hello other = hello(2, std::string(64, 'b'));
  other.plugins[0].file = "/b/libloss_hinge.so";
  EXPECT_EQ(differences(hello(0, std::string(64, 'a')), other),
            std::vector<std::string>{"rank 2 on node2: loss 'hinge' is /b/libloss_hinge.so (version 1.0.0, sha256 "
                                     "bbbbbbbbbbbb); rank 0 has /a/libloss_hinge.so (version 1.0.0, sha256 aaaaaaaaaaaa)"});
}

TEST(MpiHandshake, AMissingOrExtraPluginIsNamed) {
  mpi::Hello other = hello(1, std::string(64, 'a'));
  other.plugins[0].name = "minimax";
  EXPECT_EQ(differences(hello(0, std::string(64, 'a')), other),
            (std::vector<std::string>{
                "rank 1 on node1: has no loss 'hinge' (rank 0: /a/libloss_hinge.so (version 1.0.0, sha256 aaaaaaaaaaaa))",
                "rank 1 on node1: uses loss 'minimax' that rank 0 does not (/a/libloss_hinge.so (version 1.0.0, sha256 "
                "aaaaaaaaaaaa))"}));
}

TEST(MpiHandshake, AnotherBuildOfGantryOrAbiIsNamed) {
  mpi::Hello other = hello(1, std::string(64, 'a'));
  other.fingerprint = "gantry 0.2.0; GCC 13; libstdc++ cxx11 ABI 1";
  other.abi = 10;
  EXPECT_EQ(differences(hello(0, std::string(64, 'a')), other),
            (std::vector<std::string>{"rank 1 on node1: gantry build 'gantry 0.2.0; GCC 13; libstdc++ cxx11 ABI 1'; "
                                      "rank 0 runs 'gantry 0.1.0; GCC 12; libstdc++ cxx11 ABI 1'",
                                      "rank 1 on node1: plugin ABI version 10; rank 0 supports 9"}));
}

TEST(MpiHandshake, ARankThatCouldNotLoadSaysWhy) {
  mpi::Hello other = hello(1, std::string(64, 'a'));
  other.error = "x.toml:3:1: unknown loss 'hinge'";
  EXPECT_EQ(differences(hello(0, std::string(64, 'a')), other),
            std::vector<std::string>{"rank 1 on node1: cannot load the experiment: x.toml:3:1: unknown loss 'hinge'"});
}

TEST(MpiHandshake, OtherTrialIdentitiesAreADifference) {
  mpi::Hello other = hello(1, std::string(64, 'a'));
  other.identities.push_back("extra");
  EXPECT_EQ(differences(hello(0, std::string(64, 'a')), other),
            std::vector<std::string>{
                "rank 1 on node1: expands the experiment into 2 trial(s) with other identities than rank 0's 1"});
}

}  // namespace
}  // namespace gantry
