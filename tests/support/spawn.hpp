#pragma once
// Runs the gantry program as a user would, for tests of what only a whole process shows:
// signals, exit codes, two processes on one database.
#include "store/sqlite.hpp"
#include "support/experiments.hpp"

#include <gantry/error.hpp>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <vector>

extern char** environ;

namespace gantry::test {

/// Starts gantry with `args`, its standard output appended to `out` and its standard error to
/// `err` (empty: left as the test's); returns its pid.
inline pid_t spawn_gantry(const std::vector<std::string>& args, const std::filesystem::path& out,
                          const std::filesystem::path& err = {}) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (!err.empty())
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<std::string> all{GANTRY_TEST_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

/// The exit code, or 128 + the signal that ended it.
inline int wait_exit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

/// What a finished gantry command printed, and its exit code.
struct Outcome {
  int code = -1;
  std::string out, err;
};

/// Runs gantry with `args` to the end, its outputs captured apart in files under `dir`.
inline Outcome run_gantry(const std::vector<std::string>& args, const std::filesystem::path& dir) {
  const auto out = dir / "gantry.out", err = dir / "gantry.err";
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  Outcome o;
  o.code = wait_exit(spawn_gantry(args, out, err));
  o.out = read_text(out);
  o.err = read_text(err);
  return o;
}

/// A test that runs gantry commands on its own database in a temporary folder.
class GantryDbTest : public ::testing::Test {
 protected:
  TempDir dir;
  std::string db = (dir.path / "results.db").string();

  /// `gantry run` of the experiment `text` into `db` (one thread, no preflight); must succeed.
  void run(const std::string& text) {
    const auto toml = dir.path / "exp.toml";
    std::ofstream(toml) << text;
    const auto o = run_gantry({"run", toml.string(), "--db", db, "--threads", "1", "--progress", "plain", "--no-preflight"},
                              dir.path);
    ASSERT_EQ(o.code, 0) << o.err;
  }

  /// `gantry COMMAND ARGS... --db db`.
  Outcome gantry(const std::string& command, std::vector<std::string> args) {
    args.insert(args.begin(), command);
    args.insert(args.end(), {"--db", db});
    return run_gantry(args, dir.path);
  }
};

/// Runs in `db` matching `where` (SQL), read as another process would; 0 while gantry is still
/// creating the database.
inline int64_t count_runs(const std::string& db, const std::string& where) {
  try {
    Database d(db, Database::Access::read_only);
    auto st = d.prepare("SELECT COUNT(*) FROM runs WHERE " + where);
    return st.step() ? st.column_int(0) : 0;
  } catch (const Error&) {
    return 0;
  }
}

/// Whether a process with this pid exists (a zombie counts: it is not gone yet).
inline bool process_exists(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

/// Waits up to `limit` for `done()`; false when it never came true.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace gantry::test
