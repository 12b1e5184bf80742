// A hostile plugin cannot reach the database through a descriptor it inherited, and no process
// a trial starts outlives it — whether the trial completes or is stopped on timeout — under
// both ways of containing a trial (a PID namespace, or a subreaper where namespaces are denied).
#include "util/process.hpp"
#include "run/runner.hpp"

#include "support/experiments.hpp"
#include "support/spawn.hpp"

#include <gtest/gtest.h>
#include <sstream>

namespace gantry {
namespace {

using namespace std::chrono_literals;

class Containment : public ::testing::TestWithParam<gantry::Containment> {
 protected:
  test::TempDir dir;
  Registry registry;
  std::ostringstream log;
  std::string pid_file = (dir.path / "escaped.pid").string();

  void SetUp() override {
    if (GetParam() == gantry::Containment::pid_namespace && unshare_denied())
      GTEST_SKIP() << "PID namespaces are not permitted here (needs root or CAP_SYS_ADMIN)";
    force_containment(GetParam());
    registry.discover({GANTRY_TEST_PLUGIN_DIR, std::string(GANTRY_TEST_FIXTURE_DIR) + "/extra"});
  }

  static bool unshare_denied() {
    const pid_t pid = fork();
    if (pid == 0) _exit(unshare(CLONE_NEWPID) == 0 ? 0 : 1);
    return test::wait_exit(pid) != 0;
  }

  Experiment hostile(const std::string& mode, int64_t steps, double timeout = 0) {
    std::string text = test::tiny_experiment(
        "plugin = \"hostile\"\nmode = \"" + mode + "\"\npid_file = \"" + pid_file + "\"", steps);
    if (timeout > 0) text.replace(text.find("name = \"tiny\""), 13, "name = \"tiny\"\ntimeout = " + std::to_string(timeout));
    return parse_experiment(text, "hostile.toml", registry);
  }

  RunSummary run(const Experiment& exp, ResultStore& store) {
    RunOptions options;
    options.progress = ProgressStyle::quiet;
    return run_experiment(exp, store, options, log);
  }

  pid_t escaped_pid() {
    EXPECT_TRUE(test::eventually([&] { return std::filesystem::exists(pid_file); })) << "no pid file";
    return static_cast<pid_t>(std::stol(test::read_text(pid_file)));
  }
};

TEST_P(Containment, AHostilePluginReachesNoFileThroughInheritedDescriptors) {
  ResultStore store(dir.path / "c.db");
  const RunSummary before = run(parse_experiment(test::tiny_experiment("plugin = \"nonsaturating\"", 20), "t.toml", registry), store);
  ASSERT_EQ(before.runs[0].status, RunStatus::completed);
  const RunSummary attacked = run(hostile("vandal", 20), store);
  // The vandal fails its trial naming every regular file it reached: it must reach none.
  EXPECT_EQ(attacked.runs[0].status, RunStatus::completed) << attacked.runs[0].error;
  auto ok = store.db().prepare("PRAGMA integrity_check");
  ok.step();
  EXPECT_EQ(ok.column_text(0), "ok");
  auto m = store.db().prepare("SELECT COUNT(*) FROM metrics WHERE run_id = ?1 AND key = 'modes.modes'");
  m.bind(1, before.runs[0].run_id).step();
  EXPECT_EQ(m.column_int(0), 2);  // steps 0 and 20, as written before the attack
}

TEST_P(Containment, ATimeoutEndsEveryProcessTheTrialStarted) {
  ResultStore store(dir.path / "c.db");
  const auto t0 = std::chrono::steady_clock::now();
  const RunSummary summary = run(hostile("escape_hang", 20, 2), store);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s) << "waited on a pipe the escaped process holds";
  EXPECT_EQ(summary.runs[0].status, RunStatus::failed);
  EXPECT_EQ(summary.runs[0].error, "timeout: stopped after 2 s");
  const pid_t escaped = escaped_pid();
  EXPECT_TRUE(test::eventually([&] { return !test::process_exists(escaped); }))
      << "process " << escaped << " outlived its trial";
}

TEST_P(Containment, ACompletedTrialLeavesNoProcessBehind) {
  ResultStore store(dir.path / "c.db");
  const RunSummary summary = run(hostile("escape", 20), store);
  EXPECT_EQ(summary.runs[0].status, RunStatus::completed) << summary.runs[0].error;
  const pid_t escaped = escaped_pid();
  EXPECT_TRUE(test::eventually([&] { return !test::process_exists(escaped); }))
      << "process " << escaped << " outlived its trial";
}

TEST_P(Containment, AForgedResultFromACrashingTrialIsNotBelieved) {
  ResultStore store(dir.path / "c.db");
  const RunSummary summary = run(hostile("forge", 20), store);
  EXPECT_EQ(summary.runs[0].status, RunStatus::failed);
  EXPECT_EQ(summary.runs[0].error, "killed by signal SIGSEGV (Segmentation fault)");
}

TEST_P(Containment, AnEventLineWithoutEndStopsTheTrialNotTheParent) {
  ResultStore store(dir.path / "c.db");
  const RunSummary summary = run(hostile("flood", 20), store);
  EXPECT_EQ(summary.runs[0].status, RunStatus::failed);
  EXPECT_EQ(summary.runs[0].error, "killed by signal SIGKILL (Killed)\nstderr:\n(malformed event: an event line of "
                                   "over 64 MiB: the trial was stopped)");
}

TEST_P(Containment, EventsTheTrainerNeverSendsDoNotReachTheStore) {
  ResultStore store(dir.path / "c.db");
  const RunSummary summary = run(hostile("badkeys", 20), store);
  EXPECT_EQ(summary.runs[0].status, RunStatus::completed) << summary.runs[0].error;
  auto st = store.db().prepare("SELECT COUNT(*), MIN(step), MAX(step) FROM metrics WHERE run_id = ?1");
  st.bind(1, summary.runs[0].run_id).step();
  EXPECT_GT(st.column_int(0), 0);
  EXPECT_EQ(st.column_int(1), 0);
  EXPECT_EQ(st.column_int(2), 20);
  auto keys = store.db().prepare("SELECT COUNT(*) FROM metrics WHERE key = 'nope.x'");
  keys.step();
  EXPECT_EQ(keys.column_int(0), 0);
  auto notes = store.db().prepare("SELECT COUNT(*) FROM run_notes WHERE key = 'loss.d'");
  notes.step();
  EXPECT_EQ(notes.column_int(0), 0);
}

INSTANTIATE_TEST_SUITE_P(Both, Containment,
                         ::testing::Values(gantry::Containment::pid_namespace, gantry::Containment::subreaper),
                         [](const auto& param_info) {
                           return param_info.param == gantry::Containment::pid_namespace ? "PidNamespace" : "Subreaper";
                         });

}  // namespace
}  // namespace gantry
