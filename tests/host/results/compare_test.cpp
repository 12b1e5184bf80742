// gantry compare, query and export on a hand-built database whose answers are known.
#include "results/compare.hpp"
#include "results/query.hpp"
#include "results/stats.hpp"
#include "store/schema.sql.hpp"
#include "store/store.hpp"

#include "support/experiments.hpp"
#include "support/json.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace gantry {
namespace {

TEST(Stats, SummaryAndStudentT) {
  const std::vector<double> v{1, 2, 3};
  const Summary s = summarize(v);
  EXPECT_EQ(s.n, 3);
  EXPECT_DOUBLE_EQ(s.mean, 2);
  EXPECT_DOUBLE_EQ(s.stddev, 1);
  // Two-sided p-values from Student's t tables.
  EXPECT_NEAR(student_t_p(2.0, 10), 0.073388, 1e-5);
  EXPECT_NEAR(student_t_p(2.228138852, 10), 0.05, 1e-6);
  EXPECT_NEAR(student_t_p(12.7062047, 1), 0.05, 1e-6);
  EXPECT_DOUBLE_EQ(student_t_p(0, 5), 1.0);
  const std::vector<double> a{1, 2, 3}, b{4, 6};
  const WelchTest w = welch_t_test(a, b);
  EXPECT_NEAR(w.t, -3 / std::sqrt(1.0 / 3 + 1.0), 1e-12);
  EXPECT_NEAR(w.df, std::pow(4.0 / 3, 2) / (1.0 / 18 + 1.0), 1e-12);
}

// Three groups of a loss "axis": a = {1, 2, 3}; b = {4, 6} and one failed run; c = {10} and one
// diverged run. Each completed run has the metric at steps 0 (value − 1) and 10 (value).
class Results : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::filesystem::path path = dir.path / "r.db";
  void SetUp() override {
    ResultStore store(path);
    Database& db = store.db();
    db.exec("INSERT INTO experiments(id, name, created_at, updated_at) VALUES (1, 'fixture', 'now', 'now')");
    db.exec("INSERT INTO experiments(id, name, created_at, updated_at) VALUES (2, 'other', 'now', 'now')");
    db.exec("INSERT INTO metric_keys VALUES ('q.score', 'higher', ''), ('q.error', 'lower', '')");
    struct Run {
      std::string loss, status;
      double value;
    };
    const std::vector<Run> runs{{"a", "completed", 1},  {"a", "completed", 2}, {"a", "completed", 3},
                                {"b", "completed", 4},  {"b", "completed", 6}, {"b", "failed", 0},
                                {"c", "completed", 10}, {"c", "diverged", 0}};
    int id = 0;
    for (const Run& r : runs) {
      ++id;
      db.exec(fmt::format("INSERT INTO runs(id, experiment_id, identity, seed, status, steps, created_at) "
                          "VALUES ({0}, 1, 'id{0}', {1}, '{2}', 10, 'now')", id, id % 3, r.status));
      db.exec(fmt::format("INSERT INTO params VALUES ({0}, 'loss.plugin', '{1}'), ({0}, 'optimizer.lr', 0.001)", id, r.loss));
      if (r.status != "completed") continue;
      for (const char* key : {"q.score", "q.error"})
        db.exec(fmt::format("INSERT INTO metrics VALUES ({0}, '{1}', 0, {2}), ({0}, '{1}', 10, {3})", id, key,
                            r.value - 1, r.value));
    }
  }
  Comparison compare(const std::string& metric, const std::string& at = "final", std::vector<std::string> by = {}) {
    Database db(path, Database::Access::read_only);
    return compare_runs(db, {"fixture", metric, std::move(by), at});
  }
};

TEST_F(Results, CompareGroupsBySweptAxisAndRanksHigherIsBetter) {
  const Comparison c = compare("q.score");
  EXPECT_EQ(c.by, std::vector<std::string>{"loss.plugin"});  // optimizer.lr does not vary
  ASSERT_EQ(c.groups.size(), 3u);
  EXPECT_EQ(c.groups[0].key, std::vector<std::string>{"c"});
  EXPECT_EQ(c.groups[0].n, 1);
  EXPECT_EQ(c.groups[0].diverged, 1);
  EXPECT_EQ(c.groups[1].key, std::vector<std::string>{"b"});
  EXPECT_DOUBLE_EQ(c.groups[1].mean, 5);
  EXPECT_DOUBLE_EQ(c.groups[1].stddev, std::sqrt(2.0));
  EXPECT_EQ(c.groups[1].failed, 1);
  EXPECT_DOUBLE_EQ(c.groups[2].mean, 2);
  EXPECT_DOUBLE_EQ(c.groups[2].stddev, 1);
  EXPECT_DOUBLE_EQ(c.groups[2].min, 1);
  EXPECT_DOUBLE_EQ(c.groups[2].max, 3);
  EXPECT_FALSE(c.welch_p.has_value());  // the best group has one seed
  const Table t = comparison_table(c);
  EXPECT_EQ(t.rows[0][0], "*1");
  EXPECT_EQ(t.rows[2][0], "3");
}

TEST_F(Results, LowerIsBetterAndTheSeedNoiseTest) {
  const Comparison c = compare("q.error");
  EXPECT_FALSE(c.higher_is_better);
  EXPECT_EQ(c.groups[0].key, std::vector<std::string>{"a"});
  EXPECT_EQ(c.groups[1].key, std::vector<std::string>{"b"});
  ASSERT_TRUE(c.welch_p.has_value());
  const std::vector<double> a{1, 2, 3}, b{4, 6};
  EXPECT_NEAR(*c.welch_p, welch_t_test(a, b).p, 1e-12);
  EXPECT_GT(*c.welch_p, 0.05);
  EXPECT_NE(comparison_verdict(c).find("not separated from seed noise"), std::string::npos);
}

TEST_F(Results, AtBestAndAtAStep) {
  EXPECT_DOUBLE_EQ(compare("q.score", "best").groups[1].mean, 5);
  EXPECT_DOUBLE_EQ(compare("q.error", "best").groups[0].mean, 1);  // lower is better: step 0's 0, 1, 2
  EXPECT_DOUBLE_EQ(compare("q.score", "0").groups[1].mean, 4);
  EXPECT_EQ(compare("q.score", "final", {"optimizer.lr"}).groups.size(), 1u);
}

TEST_F(Results, CompareNamesWhatExistsOnMistakes) {
  EXPECT_THROW(compare("q.scor"), ConfigError);
  try {
    compare("q.scor");
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean: q.score"), std::string::npos) << e.what();
  }
  EXPECT_THROW(compare("q.score", "last"), ConfigError);
  EXPECT_THROW(compare("q.score", "final", {"loss.plugn"}), ConfigError);
  Database db(path, Database::Access::read_only);
  EXPECT_THROW(compare_runs(db, {"nope", "q.score", {}, "final"}), ConfigError);
}

TEST_F(Results, QueryReadsAndRefusesEveryWrite) {
  const Table t = run_query(path, "SELECT COUNT(*) AS n FROM runs WHERE status = 'completed'");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0][0], "6");
  EXPECT_EQ(run_query(path, "PRAGMA user_version").rows[0][0], std::to_string(schema::version));
  for (const char* sql : {"INSERT INTO runs(experiment_id, identity, seed, status, steps, created_at) VALUES (1, 'x', 0, 'queued', 1, 'n')",
                          "UPDATE runs SET status = 'failed'", "DELETE FROM metrics", "DROP TABLE runs",
                          "CREATE TABLE t(x)", "ATTACH DATABASE ':memory:' AS other", "PRAGMA user_version = 7",
                          "PRAGMA journal_mode = DELETE", "VACUUM", "SELECT 1; DELETE FROM runs"}) {
    EXPECT_THROW(run_query(path, sql), ConfigError) << sql;
  }
  EXPECT_EQ(run_query(path, "SELECT COUNT(*) FROM runs").rows[0][0], "8");
  EXPECT_EQ(run_query(path, "PRAGMA user_version").rows[0][0], std::to_string(schema::version));
}

// Nothing reaches another file or code outside SQLite through `gantry query` (nor through any other
// read-only connection: they share the authorizer).
TEST_F(Results, QueryRefusesOtherFilesExtensionsAndSchemaWrites) {
  const auto other = dir.path / "other.db";
  const auto refused = [&](const std::string& sql,
                           const std::string& why = "this statement would write or change the database") {
    try {
      run_query(path, sql);
      ADD_FAILURE() << "ran: " << sql;
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()), fmt::format("refused: gantry query only reads ({})", why)) << sql;
    }
  };
  refused(fmt::format("ATTACH DATABASE '{}' AS other", other.string()));
  refused(fmt::format("ATTACH DATABASE 'file:{}?mode=rwc' AS other", other.string()));
  refused(fmt::format("VACUUM INTO '{}'", other.string()));
  refused("SELECT load_extension('/nonexistent/evil.so')", "not authorized to use function: load_extension");
  refused("SELECT load_extension('libc.so.6', 'abort')", "not authorized to use function: load_extension");
  refused("PRAGMA writable_schema = ON");
  refused("PRAGMA main.writable_schema = 1");
  refused("PRAGMA trusted_schema = ON");
  EXPECT_FALSE(std::filesystem::exists(other));
  // gantry's views, which call functions (json_group_object), and pragmas that take an argument
  // but only read still work.
  EXPECT_EQ(run_query(path, "SELECT COUNT(*) FROM run_params").rows[0][0], "8");
  EXPECT_EQ(run_query(path, "SELECT COUNT(*) FROM run_results").rows[0][0], "12");
  EXPECT_EQ(run_query(path, "PRAGMA table_info(runs)").rows[0][1], "id");
  EXPECT_EQ(run_query(path, "PRAGMA writable_schema").rows[0][0], "0");
}

TEST(OutputFile, WholeOrNotAtAll) {
  test::TempDir dir;
  const auto file = dir.path / "out.csv";
  const auto files = [&] {
    std::vector<std::string> names;
    for (const auto& f : std::filesystem::directory_iterator(dir.path)) names.push_back(f.path().filename().string());
    return names;
  };
  const auto read = [&] {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  {
    OutputFile out(file);
    out.stream() << "half of it";
  }  // an error before commit(): nothing left
  EXPECT_TRUE(files().empty());
  {
    OutputFile out(file);
    out.stream() << "first\n";
    out.commit();
  }
  EXPECT_EQ(read(), "first\n");
  {
    OutputFile out(file);
    out.stream() << "second, never committed\n";
    EXPECT_EQ(files().size(), 2u);  // the temporary sits beside the destination
  }
  EXPECT_EQ(read(), "first\n");
  EXPECT_EQ(files(), std::vector<std::string>{"out.csv"});
  EXPECT_THROW(OutputFile(dir.path / "missing" / "x.csv"), ConfigError);
  EXPECT_THROW(OutputFile{dir.path}, ConfigError);
}

TEST_F(Results, ExportRoundTripsAsCsvAndJson) {
  Database db(path, Database::Access::read_only);
  std::ostringstream csv;
  EXPECT_EQ(export_metrics(db, "fixture", Format::csv, csv), 24);  // 6 runs × 2 keys × 2 steps
  std::istringstream lines(csv.str());
  std::string header, first;
  std::getline(lines, header);
  std::getline(lines, first);
  EXPECT_EQ(header, "run_id,seed,status,loss.plugin,optimizer.lr,key,step,value");
  EXPECT_EQ(first, "1,1,completed,a,0.001,q.error,0,0");
  std::ostringstream json;
  export_metrics(db, "fixture", Format::json, json);
  const test::Json parsed = test::JsonParser(json.str()).parse();
  ASSERT_EQ(parsed.array.size(), 24u);
  EXPECT_EQ(parsed[23]["loss.plugin"].string, "c");
  EXPECT_EQ(parsed[23]["value"].number, 10);
  EXPECT_EQ(parsed[23]["optimizer.lr"].number, 0.001);
}

}  // namespace
}  // namespace gantry
