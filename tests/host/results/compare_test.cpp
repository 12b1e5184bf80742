// gantry compare, query and export on a hand-built database whose answers are known.
#include "results/compare.hpp"
#include "results/query.hpp"
#include "results/stats.hpp"
#include "store/schema.sql.hpp"
#include "store/store.hpp"

#include "support/experiments.hpp"
#include "support/json.hpp"
#include "support/results_db.hpp"

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
    db.exec("INSERT INTO experiments(id, name, created_at, updated_at, sweep_columns, metrics) "
            "VALUES (1, 'fixture', 'now', 'now', '[\"loss.plugin\"]', '[\"q\"]')");
    db.exec("INSERT INTO experiments(id, name, created_at, updated_at) VALUES (2, 'other', 'now', 'now')");
    db.exec("INSERT INTO metric_keys(key, direction, doc, is_primary) VALUES ('q.score', 'higher', '', 1), "
            "('q.error', 'lower', '', 0)");
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
    return compare_runs(db, {{"fixture"}, metric, std::move(by), at});
  }
};

TEST_F(Results, CompareGroupsBySweptAxisAndRanksHigherIsBetter) {
  const Comparison c = compare("q.score");
  EXPECT_EQ(c.by, std::vector<std::string>{"loss.plugin"});  // the recorded sweep
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
  EXPECT_EQ(comparison_footer(c),
            std::vector<std::string>{"best vs runner-up: Welch's t-test t = -2.6, df = 1.68, p = 0.144: not separated "
                                     "from seed noise (p >= 0.05)"});
}

TEST_F(Results, AtBestAndAtAStep) {
  EXPECT_DOUBLE_EQ(compare("q.score", "best").groups[1].mean, 5);
  EXPECT_DOUBLE_EQ(compare("q.error", "best").groups[0].mean, 1);  // lower is better: step 0's 0, 1, 2
  EXPECT_DOUBLE_EQ(compare("q.score", "0").groups[1].mean, 4);
  EXPECT_EQ(compare("q.score", "final", {"optimizer.lr"}).groups.size(), 1u);
}

// A step is digits: stoll alone would take "-5" (no run has that step: an empty table headed
// "at step -5"), " 5" and "+5".
TEST_F(Results, AtAStepTakesDigitsOnly) {
  for (const std::string at : {"-5", " 5", "+5", "5 ", "", "99999999999999999999"}) {
    try {
      compare("q.score", at);
      ADD_FAILURE() << at;
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()), fmt::format("--at takes final, best or a step number, not '{}'", at));
    }
  }
  EXPECT_DOUBLE_EQ(compare("q.score", "10").groups[1].mean, 5);
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
  EXPECT_THROW(compare_runs(db, {{"nope"}, "q.score", {}, "final"}), ConfigError);
}

// What `gantry compare` prints, as text.
std::string printed(const Comparison& c) {
  std::ostringstream out;
  out << comparison_heading(c) << "\n";
  write_table(out, comparison_table(c), Format::table);
  for (const std::string& line : comparison_footer(c)) out << line << "\n";
  return out.str();
}

TEST_F(Results, ThePrimaryKeyIsTheDefaultAndTheHeadingSaysSo) {
  const Comparison c = compare("");
  EXPECT_EQ(c.metric, "q.score");
  EXPECT_EQ(comparison_heading(c),
            "fixture: q.score at each run's last step (higher is better), grouped by its sweep: loss.plugin; completed "
            "runs only\n"
            "metric: q.score is the primary key of q, the only metric of fixture; --metric chooses another");
  // Asked for, a metric needs no reason.
  EXPECT_EQ(comparison_heading(compare("q.error")),
            "fixture: q.error at each run's last step (lower is better), grouped by its sweep: loss.plugin; completed "
            "runs only");
}

TEST_F(Results, AnUnknownMetricListsTheExperimentsKeys) {
  for (const std::string& metric : {std::string("q.scor"), std::string("modes.modes")})
    try {
      compare(metric);
      ADD_FAILURE() << metric;
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()), fmt::format("unknown metric '{}' (available: q.error, q.score{})", metric,
                                                   metric == "q.scor" ? "; did you mean: q.score?" : ""));
    }
}

// A loss comparison with cases: minimax has no loss.mode, and loss.gp_weight and loss.clip exist
// only for wasserstein, swept or not. Minimax and WGAN with clipping tie at a mean of 4.
class Cases : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::filesystem::path path = dir.path / "r.db";
  void SetUp() override {
    test::ResultsDb r(path);
    r.experiment(1, "losses", R"('["loss.plugin", "loss.mode"]')", R"('["q"]')");
    r.experiment(2, "gp", R"('["loss.gp_weight"]')", R"('["q"]')");
    r.metric_key("q.score", "higher", true);
    const std::vector<std::pair<std::string, std::string>> minimax{{"loss.plugin", "'minimax'"}},
        clip{{"loss.plugin", "'wasserstein'"}, {"loss.mode", "'clip'"}, {"loss.clip", "0.01"}, {"loss.gp_weight", "10"}},
        gp{{"loss.plugin", "'wasserstein'"}, {"loss.mode", "'gp'"}, {"loss.clip", "0.01"}, {"loss.gp_weight", "10"}},
        gp1{{"loss.plugin", "'wasserstein'"}, {"loss.mode", "'gp'"}, {"loss.clip", "0.01"}, {"loss.gp_weight", "1"}};
    r.run(1, 0, "completed", minimax, {{"q.score", 3}});
    r.run(1, 1, "completed", minimax, {{"q.score", 5}});
    r.run(1, 0, "completed", clip, {{"q.score", 4}});
    r.run(1, 1, "completed", clip, {{"q.score", 4}});
    r.run(1, 0, "completed", gp, {{"q.score", 7}});
    r.run(1, 1, "completed", gp, {{"q.score", 9}});
    r.run(2, 0, "completed", gp, {{"q.score", 8}});
    r.run(2, 1, "completed", gp, {{"q.score", 8}});
    r.run(2, 0, "completed", gp1, {{"q.score", 6}});
    r.run(2, 1, "diverged", gp1, {});
  }
  Comparison compare(std::vector<std::string> experiments, std::vector<std::string> by = {}) {
    Database db(path, Database::Access::read_only);
    return compare_runs(db, {std::move(experiments), "", std::move(by), "final"});
  }
};

TEST_F(Cases, GroupsComeFromTheSweepAndAnAbsentParameterIsADash) {
  EXPECT_EQ(printed(compare({"losses"})),
            "losses: q.score at each run's last step (higher is better), grouped by its sweep: loss.plugin, loss.mode; "
            "completed runs only\n"
            "metric: q.score is the primary key of q, the only metric of losses; --metric chooses another\n"
            "rank  loss.plugin  loss.mode  n  mean   std   min   max  p vs best  failed  diverged\n"
            "*1    wasserstein  gp         2  8.00  1.41  7.00  9.00                  0         0\n"
            "=2    minimax      —          2  4.00  1.41  3.00  5.00      0.106       0         0\n"
            "=2    wasserstein  clip       2  4.00  0.00  4.00  4.00      0.156       0         0\n"
            "=: tied, the means are equal to 6 significant digits\n"
            // Against clip's {4, 4}: t = 4, df = 1, p = 1 − 2·atan(4)/π; against minimax p = 0.106.
            "best vs runner-up (the least separated of the runner-ups tied): Welch's t-test t = 4, df = 1, p = 0.156: "
            "not separated from seed noise (p >= 0.05)\n"
            "p vs best: Welch's t-test of each group against the best; for all 2 differences to hold at once, "
            "p < 0.025 (0.05/2, Bonferroni)\n");
}

// --versus tests every group against a named one: is anything better than minimax?
TEST_F(Cases, VersusTestsEveryGroupAgainstTheNamedOne) {
  Database db(path, Database::Access::read_only);
  CompareOptions o{{"losses"}, "", {}, "final"};
  o.versus = {"loss.plugin=minimax"};
  const Comparison c = compare_runs(db, o);
  ASSERT_EQ(c.groups.size(), 3u);
  EXPECT_EQ(c.reference, "loss.plugin=minimax");
  EXPECT_EQ(c.groups[0].key, (std::vector<std::string>{"wasserstein", "gp"}));
  const std::vector<double> minimax{3, 5}, gp{7, 9}, clip{4, 4};
  EXPECT_NEAR(*c.groups[0].p_vs_reference, welch_t_test(minimax, gp).p, 1e-12);
  EXPECT_FALSE(c.groups[1].p_vs_reference.has_value());  // minimax itself
  EXPECT_NEAR(*c.groups[2].p_vs_reference, 1.0, 1e-12);  // the same mean
  EXPECT_EQ(comparison_table(c).columns[8], "p vs loss.plugin=minimax");
  EXPECT_EQ(comparison_footer(c).back(),
            "p vs loss.plugin=minimax: Welch's t-test of each group against the group loss.plugin=minimax; for all 2 "
            "differences to hold at once, p < 0.025 (0.05/2, Bonferroni)");
  auto error = [&](std::vector<std::string> versus) {
    o.versus = std::move(versus);
    try {
      compare_runs(db, o);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error({"loss.plugin=wasserstein"}),
            "--versus loss.plugin=wasserstein names 2 groups; the groups (loss.plugin / loss.mode) are: wasserstein / "
            "gp; minimax / —; wasserstein / clip");
  EXPECT_EQ(error({"loss.plugin=wasserstein", "loss.mode=clip"}), "no error");
  EXPECT_EQ(error({"loss.plugin=hinge"}),
            "--versus loss.plugin=hinge names no groups; the groups (loss.plugin / loss.mode) are: wasserstein / gp; "
            "minimax / —; wasserstein / clip");
  EXPECT_EQ(error({"optimizer.lr=1"}),
            "--versus takes KEY=VALUE with KEY one of the grouping (loss.plugin, loss.mode), not 'optimizer.lr=1'");
  EXPECT_EQ(error({"loss.plugin"}),
            "--versus takes KEY=VALUE with KEY one of the grouping (loss.plugin, loss.mode), not 'loss.plugin'");
}

TEST_F(Cases, ExperimentsComparedTogetherGroupByTheirSweepsUnited) {
  EXPECT_EQ(printed(compare({"gp", "losses"})),
            "gp, losses: q.score at each run's last step (higher is better), grouped by experiment and their sweeps: "
            "loss.gp_weight, loss.plugin, loss.mode; completed runs only\n"
            "metric: q.score is the primary key of q, the only metric of gp; --metric chooses another\n"
            "rank  experiment  loss.gp_weight  loss.plugin  loss.mode  n  mean   std   min   max  p vs best  failed  "
            "diverged\n"
            "=1    gp          10              wasserstein  gp         2  8.00  0.00  8.00  8.00                  0         0\n"
            "=1    losses      10              wasserstein  gp         2  8.00  1.41  7.00  9.00                  0         0\n"
            "3     gp          1               wasserstein  gp         1  6.00        6.00  6.00                  0         1\n"
            "=4    losses      10              wasserstein  clip       2  4.00  0.00  4.00  4.00                  0         0\n"
            "=4    losses      —               minimax      —          2  4.00  1.41  3.00  5.00                  0         0\n"
            "=: tied, the means are equal to 6 significant digits\n"
            "best: 2 groups tie, so there is no single best to test against seed noise\n");
  // --by still chooses, the experiment first.
  EXPECT_EQ(compare({"gp", "losses"}, {"loss.mode"}).by, (std::vector<std::string>{"experiment", "loss.mode"}));
  try {
    compare({"gp", "losses"}, {"loss.gp"});
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "experiments 'gp', 'losses' have no parameter 'loss.gp' (did you mean: loss.gp_weight?)");
  }
  EXPECT_THROW(compare({"gp", "gp"}), ConfigError);
}

// Ties are decided on the digits shown: 1 + 1e-7 and 1 + 2e-7 both show as 1; 1.00001 and 1.00002
// do not. Tied groups are listed by their key and share the rank; the next rank counts them.
TEST(Ties, EqualShownMeansShareARankAndNothingIsTested) {
  test::TempDir dir;
  {
    test::ResultsDb r(dir.path / "r.db");
    r.experiment(1, "ties", R"('["loss.plugin"]')", R"('["q"]')");
    r.metric_key("q.score", "higher", true);
    const std::vector<std::pair<std::string, double>> values{{"b", 1 + 1e-7}, {"a", 1 + 2e-7}, {"c", 1.00001},
                                                             {"d", 1.00002}};
    for (const auto& [loss, v] : values)
      for (int seed = 0; seed < 2; ++seed) r.run(1, seed, "completed", {{"loss.plugin", "'" + loss + "'"}}, {{"q.score", v}});
  }
  Database db(dir.path / "r.db", Database::Access::read_only);
  const Comparison c = compare_runs(db, {{"ties"}, "q.score", {}, "final"});
  const Table t = comparison_table(c);
  ASSERT_EQ(t.rows.size(), 4u);
  EXPECT_EQ(t.rows[0][0] + " " + t.rows[0][1], "*1 d");
  EXPECT_EQ(t.rows[1][0] + " " + t.rows[1][1], "2 c");
  EXPECT_EQ(t.rows[2][0] + " " + t.rows[2][1], "=3 a");
  EXPECT_EQ(t.rows[3][0] + " " + t.rows[3][1], "=3 b");
  // Three significant digits would show all four as 1.00: the table takes the places that tell
  // the ranks apart, and the tied means show alike.
  EXPECT_EQ(shown_decimals(c), 5);
  EXPECT_EQ(t.rows[0][3] + " " + t.rows[1][3] + " " + t.rows[2][3] + " " + t.rows[3][3], "1.00002 1.00001 1.00000 1.00000");
  // CSV and JSON give the numbers exactly.
  EXPECT_EQ(comparison_table(c, Format::csv).rows[2][3], "1.0000002");
  EXPECT_EQ(comparison_footer(c), (std::vector<std::string>{
                                      "=: tied, the means are equal to 6 significant digits",
                                      "best vs runner-up: Welch's t-test t = inf, df = 2, p = 0: separated from seed "
                                      "noise (p < 0.05)",
                                      "p vs best: Welch's t-test of each group against the best; for all 3 differences "
                                      "to hold at once, p < 0.017 (0.05/3, Bonferroni)"}));
}

// One decimal place for the whole table: three significant digits of the largest mean, more
// only where two ranks would show the same mean.
TEST(ShownDecimals, ThreeDigitsOfTheLargestMeanUnlessRanksWouldLookEqual) {
  auto places = [](std::vector<double> means) {
    Comparison c;
    for (size_t i = 0; i < means.size(); ++i) {
      CompareGroup g;
      g.n = 3, g.mean = means[i], g.rank = static_cast<long>(i) + 1;
      c.groups.push_back(g);
    }
    return shown_decimals(c);
  };
  EXPECT_EQ(places({75.7733, 74.48, 8.82667, 0}), 1);
  EXPECT_EQ(places({1234.5, 2}), 0);
  EXPECT_EQ(places({2e9, 1e9}), 0);
  EXPECT_EQ(places({0.0123, 0.0045}), 4);
  EXPECT_EQ(places({-0.5, -0.9}), 3);
  EXPECT_EQ(places({75.71, 75.74}), 2);
  EXPECT_EQ(places({0, 0}), 3);
}

// FDs measured in two feature networks are not comparable: never one group, and the note names both.
TEST(FeatureNetworks, RunsMeasuredWithDifferentNetworksAreGroupedApart) {
  test::TempDir dir;
  {
    test::ResultsDb r(dir.path / "r.db");
    r.experiment(1, "fd", R"('["loss.plugin"]')", R"('["image_quality"]')");
    r.metric_key("image_quality.fd", "lower", true);
    const std::string a(64, 'a'), b(64, 'b');
    for (const auto& [seed, sha] : std::vector<std::pair<int, std::string>>{{0, a}, {1, a}, {2, b}}) {
      const int64_t id = r.run(1, seed, "completed", {{"loss.plugin", "'hinge'"}}, {{"image_quality.fd", 50.0 + seed}});
      r.db().exec(fmt::format("INSERT INTO run_notes VALUES ({}, 'image_quality.classifier_sha256', '{}')", id, sha));
    }
  }
  Database db(dir.path / "r.db", Database::Access::read_only);
  const Comparison c = compare_runs(db, {{"fd"}, "", {}, "final"});
  EXPECT_EQ(c.by, (std::vector<std::string>{"loss.plugin", "feature network"}));
  ASSERT_EQ(c.groups.size(), 2u);
  EXPECT_EQ(c.groups[0].key, (std::vector<std::string>{"hinge", std::string(16, 'a')}));
  EXPECT_EQ(c.groups[0].n, 2);
  EXPECT_EQ(c.groups[1].key, (std::vector<std::string>{"hinge", std::string(16, 'b')}));
  EXPECT_EQ(c.notes, std::vector<std::string>{fmt::format(
                         "image_quality.fd measured with 2 different feature networks ({}, {}): grouped separately, "
                         "since their values are not comparable", std::string(16, 'a'), std::string(16, 'b'))});
  // Grouped explicitly with --by: split all the same.
  const Comparison by = compare_runs(db, {{"fd"}, "image_quality.fd", {"loss.plugin"}, "final"});
  EXPECT_EQ(by.by, (std::vector<std::string>{"loss.plugin", "feature network"}));
}

// A curve's band is the seeds' std, or std/√n; one run has no spread to show.
TEST(GroupCurves, TheBandIsTheStdOrTheStandardErrorAtEachStep) {
  GroupCurve g;
  g.stddev = {2.0, 3.0};
  g.count = {4, 1};
  EXPECT_EQ(g.band(Spread::stddev), (std::vector<double>{2.0, 3.0}));
  EXPECT_EQ(g.band(Spread::std_error), (std::vector<double>{1.0, 0.0}));
  EXPECT_EQ(band_phrase(Spread::std_error), "standard error over seeds");
}

// The plot's curves split the same way: one line per feature network, not one mean over both.
TEST(FeatureNetworks, CurvesOfDifferentNetworksAreApart) {
  test::TempDir dir;
  {
    test::ResultsDb r(dir.path / "r.db");
    r.experiment(1, "fd", R"('["loss.plugin"]')", R"('["image_quality"]')");
    r.metric_key("image_quality.fd", "lower", true);
    for (const auto& [seed, sha] : std::vector<std::pair<int, char>>{{0, 'a'}, {1, 'b'}}) {
      const int64_t id = r.run(1, seed, "completed", {{"loss.plugin", "'hinge'"}}, {{"image_quality.fd", 50.0 + seed}});
      r.db().exec(fmt::format("INSERT INTO run_notes VALUES ({}, 'image_quality.classifier_sha256', '{}')", id,
                              std::string(64, sha)));
    }
  }
  Database db(dir.path / "r.db", Database::Access::read_only);
  std::vector<std::string> by;
  const auto curves = group_curves(db, "fd", "image_quality.fd", by);
  EXPECT_EQ(by, (std::vector<std::string>{"loss.plugin", "feature network"}));
  ASSERT_EQ(curves.size(), 2u);
  EXPECT_EQ(curves[0].key, (std::vector<std::string>{"hinge", std::string(16, 'a')}));
  EXPECT_EQ(curves[0].mean.back(), 50.0);
  EXPECT_EQ(curves[1].mean.back(), 51.0);
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
