// Comparisons of experiments last run before schema 6, which recorded neither their sweep nor
// which metric key is primary: the sweep and metric order come from the experiment's stored TOML,
// else from the parameters that vary; without recorded primary keys a metric must be named.
#include "results/compare.hpp"
#include "results/grouping.hpp"
#include "results/report.hpp"
#include "store/schema.sql.hpp"
#include "store/store.hpp"

#include "support/experiments.hpp"
#include "support/results_db.hpp"

#include <gantry/error.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

// [metrics.r] comes first in the file, though q sorts first; the cases leave loss.mode unset for a.
constexpr const char* old_toml = R"('[experiment]
name = "old"
[metrics.r]
[metrics.q]
[sweep]
cases = [{ "loss.plugin" = "a" }, { "loss.plugin" = "b", "loss.mode" = "gp" }]
')";

class OlderResults : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::filesystem::path path = dir.path / "r.db";
  void SetUp() override {
    test::ResultsDb r(path);
    r.experiment(1, "old", "NULL", "NULL", old_toml);
    r.experiment(2, "bare", "NULL", "NULL");  // no TOML either
    r.metric_key("q.score", "higher", true);
    r.metric_key("r.x", "lower", true);
    const std::vector<std::pair<std::string, std::string>> a{{"loss.plugin", "'a'"}, {"train.steps", "10"}},
        b{{"loss.plugin", "'b'"}, {"loss.mode", "'gp'"}, {"loss.gp_weight", "10"}, {"train.steps", "10"}};
    for (int64_t exp : {1, 2}) {
      for (int seed = 0; seed < 2; ++seed) {
        const int64_t run_a = r.run(exp, seed, "completed", a, {{"q.score", 1.0 + seed}, {"r.x", 5}});
        const int64_t run_b = r.run(exp, seed, "completed", b, {{"q.score", 3}, {"r.x", 1}});
        for (int64_t run : {run_a, run_b})
          for (const char* metric : {"q", "r"})
            r.db().exec(fmt::format("INSERT INTO plugins VALUES ({0}, 'metrics.{1}', 'metric', '{1}', '1', 'f', 'h')",
                                    run, metric));
      }
    }
  }
  Comparison compare(const std::string& experiment, const std::string& metric = "") {
    Database db(path, Database::Access::read_only);
    return compare_runs(db, {{experiment}, metric, {}, "final"});
  }
  // The file as gantry wrote it at schema 5, before comparison defaults were stored.
  void downgrade_to_schema_5() {
    Database db(path);
    db.exec("ALTER TABLE experiments DROP COLUMN sweep_columns; ALTER TABLE experiments DROP COLUMN metrics; "
            "ALTER TABLE metric_keys DROP COLUMN is_primary; DROP TABLE feature_networks; DROP TABLE checkpoints; "
            "ALTER TABLE runs DROP COLUMN worker_host; ALTER TABLE runs DROP COLUMN worker_rank; "
            "PRAGMA user_version = 5");
  }
};

TEST_F(OlderResults, TheSweepAndMetricOrderAreReadFromTheStoredToml) {
  Database db(path, Database::Access::read_only);
  const ExperimentLayout layout = experiment_layout(db, {1, "old"});
  EXPECT_EQ(layout.source, ExperimentLayout::Source::stored_toml);
  EXPECT_EQ(layout.sweep, (std::vector<std::string>{"loss.plugin", "loss.mode"}));
  EXPECT_EQ(layout.metrics, (std::vector<std::string>{"r", "q"}));
  EXPECT_EQ(comparison_heading(compare("old")),
            "old: r.x at each run's last step (lower is better), grouped by its sweep: loss.plugin, loss.mode; "
            "completed runs only\n"
            "metric: r.x is the primary key of r, the first metric of old (its metrics: r, q); --metric chooses "
            "another\n"
            "note: old was last run before schema 6: its sweep is read from its stored TOML");
  EXPECT_EQ(comparison_table(compare("old")).rows[1][2], "—");  // a's loss.mode
}

TEST_F(OlderResults, WithoutTomlTheParametersThatVaryAndTheMetricsByName) {
  EXPECT_EQ(comparison_heading(compare("bare")),
            "bare: q.score at each run's last step (higher is better), grouped by the parameters that vary: "
            "loss.gp_weight, loss.mode, loss.plugin; completed runs only\n"
            "metric: q.score is the primary key of q, the first by name of the metrics of bare (q, r; their order is "
            "not recorded); --metric chooses another\n"
            "note: bare was last run before schema 6 and has no readable TOML: its sweep is taken to be the "
            "parameters that vary");
}

TEST_F(OlderResults, ASchemaFourFileIsReadAsItIsAndAsksForAMetric) {
  downgrade_to_schema_5();
  try {
    compare("old");
    ADD_FAILURE() << "compared without a primary key";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "old: this database does not record which metric key is primary (it was written "
                                     "before schema 6); pass --metric (available: q.score, r.x)");
  }
  const Comparison c = compare("old", "q.score");
  EXPECT_EQ(c.by, (std::vector<std::string>{"loss.plugin", "loss.mode"}));
  EXPECT_EQ(c.notes, std::vector<std::string>{"old was last run before schema 6: its sweep is read from its stored TOML"});
  Database db(path, Database::Access::read_only);
  EXPECT_NE(html_report(db, "old").find(
                "<h2>Samples</h2>\n<p>No best runs to show: this database does not record which metric key is primary "
                "(it was written before schema 6); pass --metric to choose the metric that picks them.</p>"),
            std::string::npos);
}

TEST_F(OlderResults, MigratingKeepsTheFallbackUntilTheExperimentRunsAgain) {
  downgrade_to_schema_5();
  {
    ResultStore store(path);
    auto version = store.db().prepare("PRAGMA user_version");
    version.step();
    EXPECT_EQ(version.column_int(0), schema::version);
    EXPECT_TRUE(store.db().column_exists("metric_keys", "is_primary"));
    EXPECT_TRUE(store.db().column_exists("experiments", "sweep_columns"));
    store.record_metric_keys("r", {{"x", Direction::lower_is_better, ""}}, "x");  // as a new run of r would
  }
  const Comparison c = compare("old");
  EXPECT_EQ(c.metric, "r.x");
  EXPECT_EQ(c.notes, std::vector<std::string>{"old was last run before schema 6: its sweep is read from its stored TOML"});
}

}  // namespace
}  // namespace gantry
