// gantry merge: databases made apart land in one, each run once, everything it recorded kept,
// disagreements reported, and inputs never written.
#include "store/merge.hpp"

#include "run/runner.hpp"
#include "store/checkpoints.hpp"
#include "store/schema.sql.hpp"

#include "support/experiments.hpp"
#include "support/sql.hpp"
#include "support/plugins.hpp"

#include <gantry/error.hpp>
#include <gantry/sha256.hpp>

#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace gantry {
namespace {

using test::count;
using test::text;

namespace fs = std::filesystem;

class MergeTest : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::ostringstream log;

  // The tiny experiment with these seeds, checkpointed every 10 of its 20 steps, run into `db`.
  fs::path run(const std::string& name, const std::string& seeds) {
    std::string toml = test::tiny_experiment("plugin = \"nonsaturating\"", 20, "checkpoint_every = 10\n");
    toml.replace(toml.find("name = \"tiny\""), 13, "name = \"tiny\"\nseeds = " + seeds);
    const Experiment exp = parse_experiment(toml, "tiny.toml", test::builtin_registry());
    const fs::path db = dir.path / name;
    ResultStore store(db);
    const RunSummary summary = run_experiment(exp, store, {}, log);
    for (const auto& r : summary.runs) EXPECT_EQ(r.status, RunStatus::completed) << r.error;
    return db;
  }
  void exec(const fs::path& db, const std::string& sql) {
    ResultStore store(db);
    store.db().exec(sql);
  }
};

TEST_F(MergeTest, RunsMadeApartLandOnceWithEverythingTheyRecorded) {
  const fs::path a = run("laptop.db", "[0, 1]");
  const fs::path b = run("cluster.db", "[0, 1, 2]");
  // On the cluster, seed 1 was cut short and seed 2 was still running when the file was copied.
  exec(b, "UPDATE runs SET status = 'interrupted', step = 10 WHERE seed = 1;"
          "UPDATE runs SET status = 'running', host = 'node7', pid = 4242 WHERE seed = 2");
  const std::string a_hash = sha256_file(a);
  const fs::path out = dir.path / "all.db";

  const MergeReport report = merge_databases(out, {a, b});
  ASSERT_EQ(report.inputs.size(), 2u);
  EXPECT_TRUE(report.conflicts.empty()) << report.conflicts[0];
  // The cluster ran a sweep grown by a seed: its TOML, run last, is the experiment's now.
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_EQ(report.warnings[0], fmt::format("experiment 'tiny': its TOML differs between {} and {}; kept the one run "
                                            "last ({}) as its source", b.string(), out.string(), b.string()));
  const MergedInput& from_a = report.inputs[0];
  EXPECT_EQ(from_a.experiments_added, 1);
  EXPECT_EQ(from_a.runs_added, 2);
  EXPECT_EQ(from_a.checkpoints, 4);  // steps 10 and 20 of each run
  const MergedInput& from_b = report.inputs[1];
  EXPECT_EQ(from_b.experiments_added, 0);
  EXPECT_EQ(from_b.runs_added, 1);
  EXPECT_EQ(from_b.runs_kept, 2);  // seed 0 joined to its twin; seed 1 completed on the laptop
  EXPECT_EQ(from_b.runs_unfinished, 1);
  EXPECT_EQ(sha256_file(a), a_hash);  // inputs are only read

  ResultStore store(out);
  Database& db = store.db();
  EXPECT_EQ(text(db, "SELECT group_concat(seed || ' ' || status, ', ') FROM (SELECT seed, status FROM runs ORDER BY seed)"),
            "0 completed, 1 completed, 2 interrupted");
  EXPECT_EQ(text(db, "SELECT error FROM runs WHERE seed = 2"),
            fmt::format("interrupted: it was running on node7 (pid 4242) in {} when merged; the next 'gantry run' "
                        "reruns it", b.string()));
  Database laptop(a, Database::Access::read_only);
  for (const char* table : {"metrics", "params", "plugins", "artifacts"}) {
    const std::string sql = fmt::format("SELECT COUNT(*) FROM {} WHERE run_id IN (SELECT id FROM runs WHERE seed < 2)", table);
    EXPECT_EQ(count(db, sql), count(laptop, sql)) << table;
  }
  EXPECT_EQ(text(db, "SELECT value FROM final_metrics f JOIN runs r ON r.id = f.run_id WHERE r.seed = 1 AND key = 'modes.modes'"),
            text(laptop, "SELECT value FROM final_metrics f JOIN runs r ON r.id = f.run_id WHERE r.seed = 1 AND key = 'modes.modes'"));
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM metric_keys"), count(laptop, "SELECT COUNT(*) FROM metric_keys"));
  // Checkpoints beside the output, under each run's new id, the bytes they were.
  for (const CheckpointRow& row : run_checkpoints(db, count(db, "SELECT id FROM runs WHERE seed = 1"))) {
    EXPECT_EQ(row.file.substr(0, row.file.find('-')), std::to_string(count(db, "SELECT id FROM runs WHERE seed = 1")));
    EXPECT_EQ(sha256_file(checkpoint_root(out) / row.file), row.sha256) << row.file;
  }
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM checkpoints"), 6);  // seed 2's two came from the cluster
  EXPECT_EQ(text(db, "PRAGMA integrity_check"), "ok");

  // Merging again changes nothing.
  const MergeReport again = merge_databases(out, {a, b});
  EXPECT_EQ(again.inputs[0].runs_kept, 2);
  EXPECT_EQ(again.inputs[1].runs_kept, 3);
  EXPECT_EQ(again.inputs[0].runs_added + again.inputs[1].runs_added, 0);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM runs"), 3);
}

TEST_F(MergeTest, AMoreFinishedRunReplacesTheOutputsAndTakesItsCheckpoints) {
  const fs::path a = run("laptop.db", "[0]");
  const fs::path out = run("mine.db", "[0]");
  exec(out, "UPDATE runs SET status = 'interrupted', step = 10; DELETE FROM metrics WHERE step > 10");
  const int64_t old_id = [&] { ResultStore s(out); return count(s.db(), "SELECT id FROM runs"); }();
  const std::string identity = [&] { ResultStore s(out); return text(s.db(), "SELECT identity FROM runs"); }();
  ASSERT_TRUE(fs::exists(checkpoint_root(out) / run_checkpoint_folder(old_id, identity)));

  const MergeReport report = merge_databases(out, {a});
  EXPECT_EQ(report.inputs[0].runs_replaced, 1);
  ResultStore store(out);
  Database laptop(a, Database::Access::read_only);
  EXPECT_EQ(text(store.db(), "SELECT status || ' ' || step FROM runs"), "completed 20");
  EXPECT_EQ(count(store.db(), "SELECT COUNT(*) FROM metrics"), count(laptop, "SELECT COUNT(*) FROM metrics"));
  const int64_t id = count(store.db(), "SELECT id FROM runs");
  for (const CheckpointRow& row : run_checkpoints(store.db(), id))
    EXPECT_EQ(sha256_file(checkpoint_root(out) / row.file), row.sha256) << row.file;
  // The replaced run's files are gone, whether or not the new run took over its id and folder.
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(checkpoint_root(out))) files += entry.is_regular_file();
  EXPECT_EQ(files, 2);
  EXPECT_EQ(count(store.db(), "SELECT COUNT(*) FROM checkpoints"), 2);
}

TEST_F(MergeTest, DisagreeingResultsAreReportedAndTheOutputsKept) {
  const fs::path a = run("a.db", "[0]");
  const fs::path b = dir.path / "b.db";
  fs::copy_file(a, b);
  // The same trial measured otherwise elsewhere, with a metric the other lacks.
  exec(b, "UPDATE metrics SET value = value + 1 WHERE key = 'modes.modes' AND step = 20;"
          "INSERT INTO metrics(run_id, key, step, value) VALUES (1, 'extra.k', 20, 7);"
          "INSERT INTO run_notes(run_id, key, value) VALUES (1, 'where', 'b');"
          "UPDATE metric_keys SET direction = 'lower' WHERE key = 'modes.modes';"
          "UPDATE experiments SET source = source || '# edited', updated_at = '9999'");
  const fs::path out = dir.path / "out.db";
  const double kept = [&] { Database d(a, Database::Access::read_only);
    auto st = d.prepare("SELECT value FROM metrics WHERE key = 'modes.modes' AND step = 20"); st.step(); return st.column_double(0); }();

  const MergeReport report = merge_databases(out, {a, b});
  ASSERT_EQ(report.conflicts.size(), 2u);
  EXPECT_EQ(report.warnings.size(), 1u);  // the edited TOML
  EXPECT_EQ(report.conflicts[0], fmt::format("metric 'modes.modes': higher is better in {}, lower in {}; kept {}",
                                             out.string(), b.string(), out.string()));
  EXPECT_EQ(report.conflicts[1], fmt::format("experiment 'tiny' run 1 (seed 0): completed in both, 1 metric value(s) "
                                             "differ (first: modes.modes at step 20: {:.6g} here, {:.6g} there); kept {}'s",
                                             kept, kept + 1, out.string()));
  ResultStore store(out);
  auto value = store.db().prepare("SELECT value FROM metrics WHERE key = 'modes.modes' AND step = 20");
  ASSERT_TRUE(value.step());
  EXPECT_EQ(value.column_double(0), kept);
  EXPECT_EQ(text(store.db(), "SELECT value FROM metrics WHERE key = 'extra.k'"), "7.0");
  EXPECT_EQ(text(store.db(), "SELECT value FROM run_notes WHERE key = 'where'"), "b");
  EXPECT_EQ(text(store.db(), "SELECT direction FROM metric_keys WHERE key = 'modes.modes'"), "higher");
  EXPECT_EQ(text(store.db(), "SELECT substr(source, -8) FROM experiments"), "# edited");
}

TEST_F(MergeTest, AnInputOfAnOlderSchemaIsMigratedInACopy) {
  const fs::path a = run("old.db", "[0]");
  exec(a, "ALTER TABLE runs DROP COLUMN worker_rank; ALTER TABLE runs DROP COLUMN worker_host; PRAGMA user_version = 8");
  const std::string hash = sha256_file(a);
  const fs::path out = dir.path / "out.db";
  EXPECT_EQ(merge_databases(out, {a}).inputs[0].runs_added, 1);
  EXPECT_EQ(sha256_file(a), hash);
  Database old(a, Database::Access::read_only);
  EXPECT_EQ(count(old, "PRAGMA user_version"), 8);
  ResultStore store(out);
  EXPECT_EQ(text(store.db(), "SELECT status FROM runs"), "completed");
}

TEST_F(MergeTest, ABadInputIsRefusedBeforeTheOutputIsTouched) {
  const fs::path a = run("a.db", "[0]");
  const fs::path out = dir.path / "out.db";
  const fs::path missing = dir.path / "missing.db";
  const auto message = [](const auto& f) {
    try {
      f();
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([&] { merge_databases(out, {a, missing}); }),
            fmt::format("no database at {}: nothing merged", missing.string()));
  std::ofstream(dir.path / "notes.txt") << "not a database, but long enough to be read as one by SQLite............";
  EXPECT_EQ(message([&] { merge_databases(out, {dir.path / "notes.txt"}); }),
            fmt::format("{} is not a gantry results database (file is not a database)", (dir.path / "notes.txt").string()));
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(message([&] { merge_databases(a, {a}); }),
            fmt::format("{} is the output database; merge the others into it", a.string()));
  EXPECT_EQ(message([&] { merge_databases(out, {}); }), "nothing to merge: name one or more results databases");
}

}  // namespace
}  // namespace gantry
