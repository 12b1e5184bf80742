// The gantry process as a whole: SIGTERM ends it within seconds even when a trial ignores the
// stop request, its own death takes every trial process with it, and two gantry processes on
// one database share a sweep instead of both training (and deleting) the same runs.
#include "store/sqlite.hpp"

#include <gantry/error.hpp>

#include "support/experiments.hpp"
#include "support/spawn.hpp"

#include <gtest/gtest.h>
#include <regex>
#include <set>

namespace gantry {
namespace {

using namespace std::chrono_literals;

class WholeProcess : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::string db = (dir.path / "w.db").string();
  std::string pid_file = (dir.path / "escaped.pid").string();
  std::string fixtures = std::string(GANTRY_TEST_FIXTURE_DIR) + "/extra";

  std::string write(const std::string& name, const std::string& text) {
    const std::string file = (dir.path / name).string();
    std::ofstream(file) << text;
    return file;
  }

  std::string hanging_experiment() {
    return write("hang.toml", test::tiny_experiment("plugin = \"hostile\"\nmode = \"escape_hang\"\npid_file = \"" +
                                                        pid_file + "\"", 20));
  }

  int64_t count(const std::string& where) { return test::count_runs(db, where); }

  pid_t escaped_pid() {
    EXPECT_TRUE(test::eventually([&] { return std::filesystem::exists(pid_file); }, 20s)) << "no pid file";
    return static_cast<pid_t>(std::stol(test::read_text(pid_file)));
  }
};

TEST_F(WholeProcess, SigtermEndsGantryWithinSecondsAndRecordsTheTrialInterrupted) {
  const pid_t gantry = test::spawn_gantry({"--plugin-path", fixtures, "run", hanging_experiment(), "--db", db,
                                           "--progress", "plain", "--no-preflight"}, dir.path / "out.log");
  const pid_t escaped = escaped_pid();
  // Into the generator step, where the trial hangs.
  ASSERT_TRUE(test::eventually([&] { return std::filesystem::exists(pid_file + ".hanging"); }, 20s));
  ::kill(gantry, SIGTERM);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(test::wait_exit(gantry), 130);
  // The trial never reads the stop request: it is killed after the 3 s grace period.
  EXPECT_GT(std::chrono::steady_clock::now() - t0, 2500ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 6s);
  EXPECT_EQ(count("status = 'interrupted'"), 1);
  EXPECT_EQ(count("status = 'running'"), 0);
  EXPECT_TRUE(test::eventually([&] { return !test::process_exists(escaped); })) << "escaped process survived";
  EXPECT_NE(test::read_text(dir.path / "out.log").find("interrupted: run the same command again to resume"),
            std::string::npos);
}

TEST_F(WholeProcess, KillingGantryTakesEveryTrialProcessWithIt) {
  const pid_t probe = fork();
  if (probe == 0) _exit(unshare(CLONE_NEWPID) == 0 ? 0 : 1);
  if (test::wait_exit(probe) != 0)
    GTEST_SKIP() << "PID namespaces are not permitted here: a process a trial detached survives kill -9 of gantry";
  const pid_t gantry = test::spawn_gantry({"--plugin-path", fixtures, "run", hanging_experiment(), "--db", db,
                                           "--no-preflight"},
                                          dir.path / "out.log");
  const pid_t escaped = escaped_pid();
  ::kill(gantry, SIGKILL);
  test::wait_exit(gantry);
  EXPECT_TRUE(test::eventually([&] { return !test::process_exists(escaped); })) << "escaped process survived";
}

// The runs each process reports as completed by itself ("[run N seed S] completed").
std::set<std::string> completed_here(const std::string& log) {
  std::set<std::string> out;
  const std::regex line(R"(\[run (\d+) seed \d+[^\]]*\] completed)");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator(); ++it)
    out.insert((*it)[1]);
  return out;
}

TEST_F(WholeProcess, TwoGantryProcessesOnOneDatabaseShareTheWork) {
  std::string text = test::tiny_experiment("plugin = \"nonsaturating\"", 1500, "", R"(
[sweep]
"optimizer.lr" = [1e-3, 5e-4, 2e-4, 1e-4]
)");
  text.replace(text.find("eval_every = 20"), 15, "eval_every = 500");
  const std::string file = write("shared.toml", text);
  const std::vector<std::string> args{"run", file, "--db", db, "--jobs", "1", "--threads", "1", "--progress", "plain"};
  const pid_t first = test::spawn_gantry(args, dir.path / "first.log");
  ASSERT_TRUE(test::eventually([&] { return std::filesystem::exists(db) && count("status = 'running'") >= 1; }, 30s));
  const pid_t second = test::spawn_gantry(args, dir.path / "second.log");
  EXPECT_EQ(test::wait_exit(first), 0);
  EXPECT_EQ(test::wait_exit(second), 0);
  const auto a = completed_here(test::read_text(dir.path / "first.log"));
  const auto b = completed_here(test::read_text(dir.path / "second.log"));
  for (const std::string& id : a) EXPECT_EQ(b.count(id), 0u) << "run " << id << " was trained by both";
  EXPECT_EQ(a.size() + b.size(), 4u);
  EXPECT_GE(b.size(), 1u) << "the second process only waited";
  EXPECT_EQ(count("status = 'completed' AND step = 1500"), 4);
  Database d(db, Database::Access::read_only);
  auto m = d.prepare("SELECT COUNT(*) FROM metrics WHERE key = 'modes.modes'");
  m.step();
  EXPECT_EQ(m.column_int(0), 4 * 4);  // steps 0, 500, 1000, 1500 of every run, none deleted
}

}  // namespace
}  // namespace gantry
