// Interrupting a sweep (Ctrl-C, or kill -9 of gantry itself) and running it again loses nothing,
// duplicates nothing and does not redo finished runs.
#include "run/runner.hpp"
#include "store/sqlite.hpp"
#include "util/process.hpp"

#include <gantry/error.hpp>

#include "support/experiments.hpp"
#include "support/spawn.hpp"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <sys/wait.h>
#include <thread>

namespace gantry {
namespace {

using namespace std::chrono_literals;

class Resume : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::string toml = (dir.path / "resume.toml").string();
  std::string db = (dir.path / "resume.db").string();

  void SetUp() override {
    // Six trials of about a second each on one thread: long enough to interrupt partway even on a
    // busy machine.
    std::string text = test::tiny_experiment("plugin = \"nonsaturating\"", 5000, "", R"(
[sweep]
"optimizer.lr" = [1e-3, 5e-4, 2e-4]
)");
    text.replace(text.find("name = \"tiny\""), 13, "name = \"resume\"\nseeds = [0, 1]");
    text.replace(text.find("eval_every = 20"), 15, "eval_every = 500");
    std::ofstream(toml) << text;
  }

  pid_t start() {
    return test::spawn_gantry({"run", toml, "--db", db, "--jobs", "2", "--threads", "1", "--progress", "plain"},
                              dir.path / "out.log");
  }

  static int wait_exit(pid_t pid) { return test::wait_exit(pid); }

  int64_t count(const std::string& where) { return test::count_runs(db, where); }

  void wait_for(const std::string& where, int64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (count(where) < n) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "waiting for " << n << " runs with " << where;
      std::this_thread::sleep_for(50ms);
    }
  }

  std::map<int64_t, std::string> finished() {
    Database d(db, Database::Access::read_only);
    auto st = d.prepare("SELECT id, finished_at FROM runs WHERE status = 'completed'");
    std::map<int64_t, std::string> out;
    while (st.step()) out[st.column_int(0)] = st.column_text(1);
    return out;
  }

  void check_consistent() {
    Database d(db, Database::Access::read_only);
    auto ok = d.prepare("PRAGMA integrity_check");
    ok.step();
    EXPECT_EQ(ok.column_text(0), "ok");
    EXPECT_EQ(count("1"), 6);  // one row per identity, never duplicated
    EXPECT_EQ(count("status = 'completed' AND step = 5000"), 6);
    auto metrics = d.prepare("SELECT COUNT(*) FROM metrics WHERE key = 'modes.modes'");
    metrics.step();
    EXPECT_EQ(metrics.column_int(0), 6 * 11);  // steps 0, 500, ..., 5000 for every run, once each
  }
};

TEST_F(Resume, CtrlCThenRunAgain) {
  const pid_t pid = start();
  wait_for("status = 'completed'", 2);
  // A later trial must be under way, or Ctrl-C only stops the launching (nothing to interrupt).
  wait_for("status = 'running'", 1);
  ::kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid), 130);
  EXPECT_EQ(count("status = 'running'"), 0);
  EXPECT_EQ(count("status = 'failed'"), 0);
  EXPECT_GE(count("status = 'interrupted'"), 1);
  const auto done = finished();
  ASSERT_GE(done.size(), 2u);
  ASSERT_LT(done.size(), 6u);

  EXPECT_EQ(wait_exit(start()), 0);
  for (const auto& [id, when] : finished())
    if (done.count(id)) {
      EXPECT_EQ(when, done.at(id)) << "run " << id << " was redone";
    }
  check_consistent();
}

TEST_F(Resume, SecondCtrlCStopsAtOnce) {
  const pid_t pid = start();
  wait_for("status = 'running'", 2);
  ::kill(pid, SIGINT);
  ::kill(pid, SIGINT);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(wait_exit(pid), 130);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(count("status = 'running'"), 0);
  EXPECT_GE(count("status = 'interrupted'"), 1);
  EXPECT_EQ(wait_exit(start()), 0);
  check_consistent();
}

TEST_F(Resume, KillMinusNineThenRunAgain) {
  const pid_t pid = start();
  wait_for("status = 'completed'", 1);
  wait_for("status = 'running'", 1);
  ::kill(pid, SIGKILL);
  wait_exit(pid);
  std::this_thread::sleep_for(300ms);  // the workers die with their parent
  EXPECT_GE(count("status = 'running'"), 1);
  const auto done = finished();

  EXPECT_EQ(wait_exit(start()), 0);
  std::ifstream log(dir.path / "out.log");
  const std::string text((std::istreambuf_iterator<char>(log)), {});
  EXPECT_NE(text.find("left running by a stopped gantry marked interrupted"), std::string::npos) << text;
  for (const auto& [id, when] : finished())
    if (done.count(id)) {
      EXPECT_EQ(when, done.at(id)) << "run " << id << " was redone";
    }
  check_consistent();
}

// A gantry killed but not yet reaped by its parent is a zombie: it will never write again, so
// its runs are stale, though kill(pid, 0) still finds it.
TEST(RunOwner, AZombieIsNotAlive) {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  for (int i = 0; i < 200; ++i) {  // until it has exited, unreaped
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string line;
    std::getline(stat, line);
    if (line.find(") Z") != std::string::npos) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(::kill(child, 0), 0);
  EXPECT_FALSE(run_owner_alive(child, host_name()));
  EXPECT_TRUE(run_owner_alive(getpid(), host_name()));
  EXPECT_TRUE(run_owner_alive(child, "another-machine"));  // cannot be checked from here
  waitpid(child, nullptr, 0);
  EXPECT_FALSE(run_owner_alive(child, host_name()));
}

}  // namespace
}  // namespace gantry
