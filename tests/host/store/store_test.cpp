// The results database after runs: the rows we expect, statuses for each outcome, resume by
// identity, and nothing written for a bad experiment.
#include "run/runner.hpp"
#include "store/schema.sql.hpp"
#include "store/store.hpp"

#include "support/experiments.hpp"
#include "support/sql.hpp"
#include "support/plugins.hpp"

#include <gantry/sha256.hpp>

#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace gantry {
namespace {

using test::count;
using test::text;

class StoreTest : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::filesystem::path db_path = dir.path / "sub" / "gantry.db";
  Registry registry;
  std::ostringstream log;
  void SetUp() override { registry.discover({GANTRY_TEST_PLUGIN_DIR, std::string(GANTRY_TEST_FIXTURE_DIR) + "/extra"}); }
  Experiment experiment(const std::string& loss, int64_t steps, const std::string& extra = "") {
    return parse_experiment(test::tiny_experiment(loss, steps, "", extra), "tiny.toml", registry);
  }
};

TEST_F(StoreTest, SchemaVersionAndWal) {
  ResultStore store(db_path);
  EXPECT_EQ(count(store.db(), "PRAGMA user_version"), schema::version);
  EXPECT_EQ(count(store.db(), "PRAGMA application_id"), 0x474E5452);  // "GNTR"
  EXPECT_EQ(text(store.db(), "PRAGMA journal_mode"), "wal");
  ResultStore again(db_path);  // reopening an up-to-date database changes nothing
  EXPECT_EQ(count(again.db(), "PRAGMA user_version"), schema::version);
}

TEST_F(StoreTest, AVersionOneDatabaseIsMigrated) {
  {
    std::filesystem::create_directories(db_path.parent_path());
    Database db(db_path);  // as gantry wrote version 1: before the application id
    db.exec(schema::v1);
    db.exec("PRAGMA user_version = 1");
  }
  EXPECT_FALSE(open_results(db_path).table_exists("artifacts"));  // readable as it is, without migration
  ResultStore store(db_path);
  EXPECT_EQ(count(store.db(), "PRAGMA user_version"), schema::version);
  EXPECT_EQ(count(store.db(), "PRAGMA application_id"), schema::application_id);
  EXPECT_EQ(count(store.db(), "SELECT COUNT(*) FROM sqlite_master WHERE type = 'view'"), 6);
  EXPECT_EQ(count(store.db(), "SELECT COUNT(*) FROM sqlite_master WHERE name = 'artifacts'"), 1);
  EXPECT_EQ(count(store.db(), "SELECT COUNT(*) FROM sqlite_master WHERE name = 'run_notes'"), 1);
  EXPECT_TRUE(store.db().column_exists("metric_keys", "is_primary"));
  EXPECT_TRUE(store.db().column_exists("experiments", "sweep_columns"));
  EXPECT_TRUE(store.db().column_exists("experiments", "metrics"));
}

// Whether opened to write (ResultStore) or to read (open_results), a file that is not gantry's is
// refused with DatabaseError naming it, and left byte-identical with nothing beside it.
class ForeignDatabase : public StoreTest {
 protected:
  void SetUp() override { std::filesystem::create_directories(db_path.parent_path()); }
  void make(const std::string& sql) {
    Database db(db_path);
    db.exec(sql);
  }
  void expect_refused(const std::string& why) {
    const std::string before = sha256_file(db_path);
    for (const bool to_write : {true, false}) {
      try {
        if (to_write) ResultStore store(db_path);
        else open_results(db_path);
        ADD_FAILURE() << "opened " << db_path << (to_write ? " to write" : " to read");
      } catch (const DatabaseError& e) {
        EXPECT_EQ(e.what(), fmt::format("{} is not a gantry results database ({})", db_path.string(), why));
      }
    }
    EXPECT_EQ(sha256_file(db_path), before);
    size_t files = 0;
    for ([[maybe_unused]] const auto& f : std::filesystem::directory_iterator(db_path.parent_path())) ++files;
    EXPECT_EQ(files, 1u) << "-wal, -shm or -journal left beside " << db_path;
  }
};

TEST_F(ForeignDatabase, AnotherProgramsTablesAreNeverTouched) {
  // In WAL mode: opening it to write would have run a checkpoint and left -wal and -shm files.
  make("PRAGMA journal_mode = WAL; CREATE TABLE notes(x); CREATE TABLE accounts(y); INSERT INTO notes VALUES (1)");
  expect_refused("it has tables: accounts, notes; application_id 0x00000000");
}

TEST_F(ForeignDatabase, AnotherApplicationIdIsRefusedEvenWithGantrysTables) {
  { ResultStore store(db_path); }
  make("PRAGMA application_id = 1234");
  expect_refused(
      "it has tables: artifacts, checkpoints, experiments, feature_networks, metric_keys, metrics, params, plugin_builds "
      "and 3 more; application_id 0x000004d2");
}

TEST_F(ForeignDatabase, TablesNamedLikeGantrysAreNotEnough) {
  make("CREATE TABLE experiments(id); CREATE TABLE runs(id); CREATE TABLE t1(x); CREATE TABLE t2(x); "
       "CREATE TABLE t3(x); CREATE TABLE t4(x); CREATE TABLE t5(x); CREATE TABLE t6(x); CREATE TABLE t7(x); "
       "PRAGMA user_version = 2");
  expect_refused("it has tables: experiments, runs, t1, t2, t3, t4, t5, t6 and 1 more; application_id 0x00000000");
}

TEST_F(ForeignDatabase, ATextFileIsNotADatabase) {
  std::ofstream(db_path) << "name,value\nnot,a database\n";
  expect_refused("file is not a database");
}

TEST_F(ForeignDatabase, ANewerSchemaOfOursIsRefusedWithBothVersions) {
  { ResultStore store(db_path); }
  make("PRAGMA user_version = 99");
  const std::string message =
      fmt::format("{}: database schema version 99 is newer than this gantry supports ({})", db_path.string(), schema::version);
  try {
    ResultStore store(db_path);
    ADD_FAILURE() << "opened a newer schema";
  } catch (const DatabaseError& e) {
    EXPECT_EQ(e.what(), message);
  }
  EXPECT_THROW(open_results(db_path), DatabaseError);
}

TEST_F(ForeignDatabase, AnEmptyFileBecomesOursAndReadingCreatesNothing) {
  const auto elsewhere = dir.path / "nowhere" / "x.db";
  EXPECT_THROW(open_results(elsewhere), ConfigError);
  EXPECT_FALSE(std::filesystem::exists(elsewhere.parent_path()));
  std::ofstream(db_path).close();
  EXPECT_THROW(open_results(db_path), DatabaseError);  // holds no results yet
  EXPECT_EQ(std::filesystem::file_size(db_path), 0u);
  ResultStore store(db_path);
  EXPECT_EQ(count(store.db(), "PRAGMA application_id"), schema::application_id);
}

TEST_F(StoreTest, ACompletedRunHasItsRows) {
  const Experiment exp = experiment("plugin = \"nonsaturating\"", 40);
  ResultStore store(db_path);
  const RunSummary summary = run_experiment(exp, store, {}, log);
  ASSERT_EQ(summary.runs.size(), 1u);
  EXPECT_EQ(summary.runs[0].status, RunStatus::completed) << summary.runs[0].error;
  Database& db = store.db();
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM experiments WHERE name = 'tiny'"), 1);
  EXPECT_EQ(text(db, "SELECT status || ' ' || step || ' ' || steps || ' ' || seed FROM runs"), "completed 40 40 0");
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM runs WHERE identity = '" + summary.runs[0].identity + "'"), 1);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM params"), static_cast<int64_t>(config_leaves(exp.trials[0].config).size()));
  EXPECT_EQ(text(db, "SELECT value FROM params WHERE key = 'loss.plugin'"), "nonsaturating");
  EXPECT_EQ(text(db, "SELECT typeof(value) FROM params WHERE key = 'optimizer.lr'"), "real");
  EXPECT_EQ(text(db, "SELECT typeof(value) FROM params WHERE key = 'train.steps'"), "integer");
  // Metrics: losses every 10 steps (4 points × 2 keys), 5 metric keys at steps 0, 20, 40.
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM metrics WHERE key LIKE 'loss.%'"), 8);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM metrics WHERE key NOT LIKE 'loss.%'"), 15);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM final_metrics WHERE step = 40"), 7);
  EXPECT_EQ(text(db, "SELECT direction FROM metric_keys WHERE key = 'modes.reverse_kl'"), "lower");
  // What comparisons default to: each metric's primary key, the sweep and the metrics in file order.
  EXPECT_EQ(text(db, "SELECT group_concat(key, ' ') FROM (SELECT key FROM metric_keys WHERE is_primary = 1 ORDER BY key)"),
            "disc_accuracy.accuracy modes.modes");
  EXPECT_EQ(text(db, "SELECT sweep_columns || ' ' || metrics FROM experiments"), "[] [\"modes\", \"disc_accuracy\"]");
  // Provenance: every plugin with version and file hash; the build that ran it.
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM plugins WHERE length(sha256) = 64 AND version <> ''"), 6);
  EXPECT_EQ(text(db, "SELECT version FROM plugins WHERE name = 'nonsaturating'"), "1.1.0");
  EXPECT_EQ(text(db, "SELECT abi_version || ' ' || gantry_version FROM runs"), fmt::format("{} 0.1.0", abi_version));
  EXPECT_NE(text(db, "SELECT compiler FROM runs"), "");
  EXPECT_EQ(text(db, "PRAGMA integrity_check"), "ok");
  // The views for sqlite3 and pandas users agree with the tables.
  EXPECT_EQ(text(db, "SELECT final = (SELECT value FROM final_metrics WHERE key = 'modes.modes') FROM run_results "
                     "WHERE key = 'modes.modes'"), "1");
  EXPECT_EQ(text(db, "SELECT best = (SELECT MIN(value) FROM metrics WHERE key = 'modes.reverse_kl') FROM run_results "
                     "WHERE key = 'modes.reverse_kl'"), "1");
  EXPECT_EQ(text(db, "SELECT json_extract(params, '$.\"loss.plugin\"') FROM run_params"), "nonsaturating");
  // A PNG scatter of the evaluation sample at every evaluation (steps 0, 20, 40).
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM artifacts WHERE kind = 'samples' AND mime = 'image/png' "
                      "AND hex(substr(data, 1, 4)) = '89504E47'"), 3);
  // Notes a metric reports about how it measured: one row per key, the last value kept.
  RunWriter writer(store, 1);
  writer.note("image_quality.samples", "1000");
  writer.note("image_quality.samples", "10000");
  writer.flush();
  EXPECT_EQ(text(db, "SELECT key || '=' || value FROM run_notes WHERE run_id = 1"), "image_quality.samples=10000");
}

TEST_F(StoreTest, RunningAgainSkipsCompletedRunsAndForceReruns) {
  std::string toml = test::tiny_experiment("plugin = \"nonsaturating\"", 20);
  toml.replace(toml.find("name = \"tiny\""), 13, "name = \"tiny\"\nseeds = [0, 1]");
  const Experiment exp = parse_experiment(toml, "seeds.toml", registry);
  ResultStore store(db_path);
  const RunSummary first = run_experiment(exp, store, {}, log);
  ASSERT_EQ(first.runs.size(), 2u);
  const RunSummary second = run_experiment(exp, store, {}, log);
  EXPECT_TRUE(second.runs[0].skipped && second.runs[1].skipped);
  EXPECT_EQ(second.runs[1].run_id, first.runs[1].run_id);
  EXPECT_EQ(second.runs[1].final_metrics, first.runs[1].final_metrics);
  const RunSummary forced = run_experiment(exp, store, {.force = true}, log);
  EXPECT_FALSE(forced.runs[0].skipped);
  EXPECT_EQ(count(store.db(), "SELECT COUNT(*) FROM runs"), 2);  // rerun in place, never duplicated
  EXPECT_EQ(count(store.db(), "SELECT COUNT(DISTINCT run_id) FROM metrics"), 2);
}

TEST_F(StoreTest, AThrowingPluginFailsItsRunWithTheMessage) {
  const Experiment exp = experiment("plugin = \"faulty\"\nmode = \"throw\"\nat_step = 15", 30);
  ResultStore store(db_path);
  const RunSummary summary = run_experiment(exp, store, {}, log);
  EXPECT_EQ(summary.runs[0].status, RunStatus::failed);
  EXPECT_TRUE(summary.any_failed());
  EXPECT_EQ(text(store.db(), "SELECT status || ': ' || error FROM runs"), "failed: faulty loss failed on purpose");
  // What was measured before the failure is kept.
  EXPECT_EQ(count(store.db(), "SELECT MAX(step) FROM metrics WHERE key = 'loss.g'"), 10);
}

TEST_F(StoreTest, ANonFiniteLossIsRecordedAsDiverged) {
  const Experiment exp = experiment("plugin = \"faulty\"\nmode = \"nan\"\nat_step = 12", 30);
  ResultStore store(db_path);
  const RunSummary summary = run_experiment(exp, store, {}, log);
  EXPECT_EQ(summary.runs[0].status, RunStatus::diverged);
  EXPECT_FALSE(summary.any_failed());
  EXPECT_EQ(text(store.db(), "SELECT status || ' at ' || step || ': ' || error FROM runs"),
            "diverged at 12: non-finite generator loss at step 12");
  EXPECT_EQ(count(store.db(), "SELECT COUNT(*) FROM metrics WHERE key = 'loss.g' AND step = 12 AND value IS NULL"), 1);
}

}  // namespace
}  // namespace gantry
