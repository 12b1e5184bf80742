// gantry report: the primary metric leads, and each group's best run is chosen by it, among
// completed runs, with ties named.
#include "results/report.hpp"

#include "support/experiments.hpp"
#include "support/results_db.hpp"

#include <gantry/error.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

// minimax: run 1 collapsed (q.error, alphabetically first and lower-is-better, calls it best),
// run 2 scores best, run 3 failed after scoring higher still. hinge: three runs tied on q.score.
class Report : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::filesystem::path path = dir.path / "r.db";
  void SetUp() override {
    test::ResultsDb r(path);
    r.experiment(1, "losses", R"('["loss.plugin"]')", R"('["q"]')");
    r.metric_key("q.score", "higher", true);
    r.metric_key("q.error", "lower", false);
    const std::vector<std::pair<std::string, std::string>> minimax{{"loss.plugin", "'minimax'"}},
        hinge{{"loss.plugin", "'hinge'"}};
    r.run(1, 0, "completed", minimax, {{"q.score", 3}, {"q.error", 0}});
    r.run(1, 1, "completed", minimax, {{"q.score", 5}, {"q.error", 9}});
    r.run(1, 2, "failed", minimax, {{"q.score", 50}, {"q.error", 0}});
    for (int seed = 0; seed < 3; ++seed) r.run(1, seed, "completed", hinge, {{"q.score", 4}, {"q.error", 1.0 + seed}});
    for (int run = 1; run <= 6; ++run)
      r.db().exec(fmt::format("INSERT INTO artifacts VALUES ({}, 'samples', 10, 'image/png', x'89504E47')", run));
  }
  std::string report(const std::string& metric = "") {
    Database db(path, Database::Access::read_only);
    return html_report(db, "losses", metric);
  }
};

bool has(const std::string& html, const std::string& part) { return html.find(part) != std::string::npos; }

TEST_F(Report, ThePrimaryMetricLeadsAndPicksEachGroupsBestRun) {
  const std::string html = report();
  ASSERT_TRUE(has(html, "<h2>q.score (primary)</h2>"));
  EXPECT_LT(html.find("<h2>q.score (primary)</h2>"), html.find("<h2>q.error</h2>"));
  EXPECT_TRUE(has(html, "<h2>Samples: the best run of each group by q.score</h2>\n"
                        "<p>metric: q.score is the primary key of q, the only metric of losses</p>"));
  EXPECT_TRUE(has(html, "<figcaption>minimax<br>run 2, step 10: q.score = 5</figcaption>"));
  EXPECT_TRUE(has(html, "<figcaption>hinge<br>run 4, step 10: q.score = 4<br>tied with runs 5, 6</figcaption>"));
  // Both groups average 4 on q.score: both rows are marked best, as tied.
  size_t tied_best = 0;
  for (size_t at = 0; (at = html.find("<tr class=\"best\"><td class=\"text\">=1</td>", at)) != std::string::npos; ++at)
    ++tied_best;
  EXPECT_EQ(tied_best, 2u);
  EXPECT_TRUE(has(html, "<p>=: tied, the means are equal to 6 significant digits</p>"));
}

TEST_F(Report, MetricOverridesAndFailedRunsAreNeverBest) {
  const std::string html = report("q.error");
  EXPECT_TRUE(has(html, "<p>metric: q.error, chosen with --metric</p>"));
  EXPECT_TRUE(has(html, "<figcaption>minimax<br>run 1, step 10: q.error = 0</figcaption>"));
  EXPECT_TRUE(has(html, "<figcaption>hinge<br>run 4, step 10: q.error = 1</figcaption>"));
  EXPECT_LT(html.find("<h2>q.error (--metric)</h2>"), html.find("<h2>q.score</h2>"));
}

// gantry plot draws the same default; an unknown metric lists the experiment's keys.
TEST_F(Report, PlotDefaultsToThePrimaryKeyToo) {
  Database db(path, Database::Access::read_only);
  EXPECT_EQ(plot_metric(db, "losses", "", {}), plot_metric(db, "losses", "q.score", {}));
  EXPECT_NE(plot_metric(db, "losses", "", {}), plot_metric(db, "losses", "q.error", {}));
  // --error se: the band (and the title that names it) is the standard error.
  EXPECT_NE(plot_metric(db, "losses", "q.score", {}, false, Spread::std_error), plot_metric(db, "losses", "q.score", {}));
  try {
    plot_metric(db, "losses", "q.eror", {});
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "unknown metric 'q.eror' (available: q.error, q.score; did you mean: q.error?)");
  }
}

}  // namespace
}  // namespace gantry
