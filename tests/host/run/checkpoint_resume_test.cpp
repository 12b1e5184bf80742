// A trial whose gantry is killed with kill -9 partway continues from its last checkpoint on the
// next `gantry run`, and ends with exactly the metrics of the same trial left uninterrupted.
#include "store/sqlite.hpp"

#include "support/experiments.hpp"
#include "support/spawn.hpp"

#include <gantry/sha256.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace gantry {
namespace {

using namespace std::chrono_literals;

class CheckpointResume : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::string toml = (dir.path / "long.toml").string();

  void SetUp() override { write(8000); }

  // Some seconds of training on one thread at 8,000 steps: long enough to kill partway.
  void write(int64_t steps) {
    std::string text = test::tiny_experiment("plugin = \"nonsaturating\"", steps,
                                             "checkpoint_every = 500\nkeep_checkpoints = 2\n");
    text.replace(text.find("name = \"tiny\""), 13, "name = \"long\"");
    text.replace(text.find("eval_every = 20"), 15, "eval_every = 500");
    std::ofstream(toml) << text;
  }

  std::vector<std::string> run_args(const std::string& db) {
    return {"run", toml, "--db", db, "--threads", "1", "--progress", "plain", "--no-preflight"};
  }

  static std::string query(const std::string& db, const std::string& sql) {
    Database d(db, Database::Access::read_only);
    auto st = d.prepare(sql);
    std::string out;
    while (st.step()) out += st.column_text(0) + "\n";
    return out;
  }

  // Every metric point, values printed to the last bit.
  static std::string metrics(const std::string& db) {
    return query(db, "SELECT key || ' ' || step || ' ' || printf('%!.17g', value) FROM metrics ORDER BY key, step");
  }
};

TEST_F(CheckpointResume, KillMinusNineThenRunAgainEndsWithTheUninterruptedMetrics) {
  const std::string whole = (dir.path / "whole.db").string(), split = (dir.path / "split.db").string();
  ASSERT_EQ(test::run_gantry(run_args(whole), dir.path).code, 0);

  const pid_t pid = test::spawn_gantry(run_args(split), dir.path / "split.log");
  ASSERT_TRUE(test::eventually(
      [&] { return test::count_runs(split, "id IN (SELECT run_id FROM checkpoints WHERE step >= 1500)") > 0; }, 120s));
  ::kill(pid, SIGKILL);
  test::wait_exit(pid);
  std::this_thread::sleep_for(300ms);  // the worker dies with its parent
  ASSERT_EQ(test::count_runs(split, "status = 'running' AND step < 8000"), 1) << "killed after the run ended";
  const std::string last = query(split, "SELECT MAX(step) FROM checkpoints");

  const test::Outcome again = test::run_gantry(run_args(split), dir.path);
  ASSERT_EQ(again.code, 0) << again.out << again.err;
  EXPECT_EQ(metrics(split), metrics(whole));
  const auto exported = [&](const std::string& db) {
    return test::run_gantry({"export", "long", "--db", db, "--format", "csv"}, dir.path).out;
  };
  EXPECT_EQ(exported(split), exported(whole));
  EXPECT_EQ(query(split, "SELECT value FROM run_notes WHERE key = 'checkpoint.resume.1'"),
            fmt::format("resumed from the checkpoint of step {}", last));
  // keep_checkpoints = 2: the two before the end, and the final one; their files and nothing else.
  EXPECT_EQ(query(split, "SELECT step FROM checkpoints ORDER BY step"), "7000\n7500\n8000\n");
  size_t files = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(split + ".checkpoints"))
    files += f.is_regular_file();
  EXPECT_EQ(files, 3u);
  const std::string file = query(split, "SELECT file FROM checkpoints WHERE step = 8000");
  EXPECT_EQ(query(split, "SELECT sha256 FROM checkpoints WHERE step = 8000"),
            sha256_file(split + ".checkpoints/" + file.substr(0, file.size() - 1)) + "\n");
}

TEST_F(CheckpointResume, ForceStartsAgainFromStepZeroAndDeletesTheOldFiles) {
  write(1000);
  const std::string db = (dir.path / "f.db").string();
  ASSERT_EQ(test::run_gantry(run_args(db), dir.path).code, 0);
  const std::string before = query(db, "SELECT file FROM checkpoints ORDER BY step");
  auto args = run_args(db);
  args.push_back("--force");
  ASSERT_EQ(test::run_gantry(args, dir.path).code, 0);
  EXPECT_EQ(query(db, "SELECT file FROM checkpoints ORDER BY step"), before);  // written again, same names
  EXPECT_EQ(query(db, "SELECT COUNT(*) FROM run_notes WHERE key LIKE 'checkpoint.%'"), "0\n");
}

}  // namespace
}  // namespace gantry
