// A trial whose plugin throws, aborts, segfaults, hangs or returns NaN fails (or diverges) alone;
// the other trials of the sweep complete.
#include "run/runner.hpp"

#include "support/experiments.hpp"
#include "support/plugins.hpp"

#include <gtest/gtest.h>
#include <sstream>

namespace gantry {
namespace {

class Isolation : public ::testing::Test {
 protected:
  test::TempDir dir;
  Registry registry;
  std::ostringstream log;
  void SetUp() override { registry.discover({GANTRY_TEST_PLUGIN_DIR, std::string(GANTRY_TEST_FIXTURE_DIR) + "/extra"}); }
};

TEST_F(Isolation, BadTrialsFailAloneWithTheirReasons) {
  const std::string sweep = R"(
[sweep]
cases = [
  { "loss.mode" = "none" },
  { "loss.mode" = "segfault", "loss.at_step" = 5 },
  { "loss.mode" = "throw", "loss.at_step" = 5 },
  { "loss.mode" = "nan", "loss.at_step" = 7 },
  { "loss.mode" = "abort", "loss.at_step" = 5 },
  { "loss.mode" = "none", "loss.at_step" = 2 },
]
)";
  const Experiment exp = parse_experiment(test::tiny_experiment("plugin = \"faulty\"", 30, "", sweep), "iso.toml", registry);
  ASSERT_EQ(exp.trials.size(), 6u);
  ResultStore store(dir.path / "iso.db");
  RunOptions options;
  options.jobs = 2;
  options.progress = ProgressStyle::quiet;
  const RunSummary summary = run_experiment(exp, store, options, log);
  ASSERT_EQ(summary.runs.size(), 6u);
  EXPECT_EQ(summary.runs[0].status, RunStatus::completed) << summary.runs[0].error;
  EXPECT_EQ(summary.runs[1].status, RunStatus::failed);
  EXPECT_EQ(summary.runs[1].error,
            "killed by signal SIGSEGV (Segmentation fault)\nstderr:\nfaulty loss: about to crash");
  EXPECT_EQ(summary.runs[2].status, RunStatus::failed);
  EXPECT_EQ(summary.runs[2].error, "faulty loss failed on purpose");
  EXPECT_EQ(summary.runs[3].status, RunStatus::diverged);
  EXPECT_EQ(summary.runs[3].error, "non-finite generator loss at step 7");
  EXPECT_EQ(summary.runs[4].status, RunStatus::failed);
  EXPECT_NE(summary.runs[4].error.find("killed by signal SIGABRT"), std::string::npos) << summary.runs[4].error;
  EXPECT_NE(summary.runs[4].error.find("faulty loss: giving up"), std::string::npos) << summary.runs[4].error;
  EXPECT_EQ(summary.runs[5].status, RunStatus::completed);
  // The database agrees, and the completed runs have their metrics.
  auto st = store.db().prepare("SELECT COUNT(*) FROM runs WHERE status = 'completed' AND step = 30");
  st.step();
  EXPECT_EQ(st.column_int(0), 2);
  auto m = store.db().prepare("SELECT COUNT(*) FROM metrics WHERE run_id = ?1 AND key = 'modes.modes'");
  m.bind(1, summary.runs[5].run_id);
  m.step();
  EXPECT_EQ(m.column_int(0), 3);  // steps 0, 20, 30
}

TEST_F(Isolation, ATrialOverItsTimeLimitFails) {
  const std::string sweep = R"(
[sweep]
cases = [{ "loss.mode" = "hang", "loss.at_step" = 3 }, { "loss.mode" = "none" }]
)";
  const Experiment exp = parse_experiment(test::tiny_experiment("plugin = \"faulty\"", 20, "", sweep), "t.toml", registry);
  ResultStore store(dir.path / "t.db");
  RunOptions options;
  options.jobs = 2;
  options.trial_timeout = 2;
  options.progress = ProgressStyle::quiet;
  const RunSummary summary = run_experiment(exp, store, options, log);
  EXPECT_EQ(summary.runs[0].status, RunStatus::failed);
  EXPECT_EQ(summary.runs[0].error, "timeout: stopped after 2 s");
  EXPECT_EQ(summary.runs[1].status, RunStatus::completed);
}

TEST_F(Isolation, TheExperimentFileCanSetTheTimeout) {
  std::string text = test::tiny_experiment("plugin = \"faulty\"\nmode = \"hang\"\nat_step = 2", 20);
  text.replace(text.find("name = \"tiny\""), 13, "name = \"tiny\"\ntimeout = 1.5");
  const Experiment timed = parse_experiment(text, "x.toml", registry);
  EXPECT_DOUBLE_EQ(timed.timeout, 1.5);
  ResultStore store(dir.path / "x.db");
  RunOptions options;
  options.progress = ProgressStyle::quiet;
  const RunSummary summary = run_experiment(timed, store, options, log);
  EXPECT_EQ(summary.runs[0].error, "timeout: stopped after 1.5 s");
}

}  // namespace
}  // namespace gantry
