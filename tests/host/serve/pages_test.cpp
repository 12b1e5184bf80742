// gantry serve's renderers: exact pieces of pages, SVG and JSON, and hostile values from the
// database rendering as text.
#include "serve/pages.hpp"

#include "plot/svg.hpp"
#include "results/compare.hpp"
#include "support/experiments.hpp"
#include "support/results_db.hpp"
#include "util/text.hpp"

#include <gantry/error.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

constexpr const char* hostile = "<script>alert(1)</script>";

// Experiment 1 is named with markup; hinge beats minimax on q.score over three seeds each.
class Pages : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::filesystem::path path = dir.path / "r.db";
  void SetUp() override {
    test::ResultsDb r(path);
    r.experiment(1, hostile, R"('["loss.plugin"]')", R"('["q"]')");
    r.metric_key("q.score", "higher", true);
    const std::vector<std::pair<std::string, std::string>> minimax{{"loss.plugin", "'minimax'"}},
        hinge{{"loss.plugin", "'hinge'"}};
    for (int seed = 0; seed < 3; ++seed) r.run(1, seed, "completed", minimax, {{"q.score", 1.0 + seed}});
    for (int seed = 0; seed < 3; ++seed) r.run(1, seed, "completed", hinge, {{"q.score", 10.0 + seed}});
    r.run(1, 3, "failed", {{"loss.plugin", "'<b>x</b>'"}}, {});
    r.db().exec("UPDATE runs SET error = 'worker died: <img src=x onerror=alert(1)>' WHERE id = 7");
    r.db().exec("INSERT INTO artifacts VALUES (1, 'samples', 10, 'image/png', x'89504E47')");
  }
};

TEST(Html, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(html_escape(R"(<a href="x">&'</a>)"), "&lt;a href=&quot;x&quot;&gt;&amp;'&lt;/a&gt;");
}

TEST_F(Pages, AHostileExperimentNameRendersAsText) {
  Database db(path, Database::Access::read_only);
  const std::string list = serve::experiments_page(db);
  EXPECT_TRUE(has(list, "<a href=\"/experiment/1\">&lt;script&gt;alert(1)&lt;/script&gt;</a>"));
  EXPECT_TRUE(has(list, "<span class=\"s-completed\">6 completed</span>, <span class=\"s-failed\">1 failed</span>"));
  const std::string runs = serve::experiment_page(db, 1, {});
  EXPECT_TRUE(has(runs, "<title>gantry: &lt;script&gt;alert(1)&lt;/script&gt;</title>"));
  EXPECT_TRUE(has(runs, "<td>&lt;b&gt;x&lt;/b&gt;</td>"));
  // The only <script> of any page is gantry's own.
  for (const std::string& page : {list, runs, serve::compare_page(db, 1, {}), serve::run_page(db, 7)}) {
    EXPECT_FALSE(has(page, hostile));
    EXPECT_FALSE(has(page, "<b>x"));
    size_t scripts = 0;
    for (size_t at = 0; (at = page.find("<script", at)) != std::string::npos; ++at) ++scripts;
    EXPECT_EQ(scripts, 1u);
    EXPECT_TRUE(has(page, "<script src=\"/assets/live.js\"></script>"));
  }
}

TEST_F(Pages, ARunShowsItsErrorAsTextAndItsSamplesWithASlider) {
  Database db(path, Database::Access::read_only);
  const std::string failed = serve::run_page(db, 7);
  EXPECT_TRUE(has(failed, "<pre>worker died: &lt;img src=x onerror=alert(1)&gt;</pre>"));
  const std::string run = serve::run_page(db, 1);
  EXPECT_TRUE(
      has(run, "<tr><td>q.score</td><td class=\"num\">10</td><td class=\"num\">1</td><td class=\"num\">1</td></tr>"));
  EXPECT_TRUE(has(run, "<tr><td>loss.plugin</td><td>minimax</td></tr>"));
  EXPECT_TRUE(has(run,
                  "data-steps=\"10\"><input type=\"range\" min=\"0\" max=\"0\" value=\"0\"> step <span "
                  "class=\"step\">10</span><br><img alt=\"samples at step 10\" src=\"/artifact/1/10\">"));
  EXPECT_FALSE(has(run, "Checkpoints"));  // no checkpoints table before schema 8
  try {
    serve::run_page(db, 99);
    ADD_FAILURE();
  } catch (const serve::HttpError& e) {
    EXPECT_EQ(e.status, 404);
    EXPECT_EQ(std::string(e.what()), "no run with id 99");
  }
}

TEST_F(Pages, CheckpointsShowWhereTheTableExists) {
  {
    Database w(path);
    w.exec("INSERT INTO checkpoints VALUES (1, 10, 'ck/<1>.bin', 2048, 'abc', '2026-11-29T20:00:00Z')");
  }
  Database db(path, Database::Access::read_only);
  EXPECT_TRUE(has(serve::run_page(db, 1),
                  "<h2>Checkpoints</h2>\n<table><tr><th>step</th><th>size</th><th>sha256</th><th>file</th>"
                  "<th>written</th></tr>\n<tr><td>10</td><td>0.00205 MB</td><td>abc</td><td>ck/&lt;1&gt;.bin</td>"
                  "<td>2026-11-29T20:00:00Z</td></tr>\n</table>"));
}

TEST_F(Pages, AnExperimentWithoutRunsRenders) {
  {
    Database w(path);
    w.exec("INSERT INTO experiments(id, name, created_at, updated_at) VALUES (2, 'empty', 'now', 'now')");
  }
  Database db(path, Database::Access::read_only);
  EXPECT_TRUE(has(serve::experiments_page(db), "<a href=\"/experiment/2\">empty</a></td><td>no runs</td>"));
  EXPECT_TRUE(has(serve::experiment_page(db, 2, {}),
                  "<table id=\"runs\"><tr><th><a href=\"/experiment/2?sort=run\">run</a></th>"));
  EXPECT_EQ(serve::runs_table(db, 2, {}).rows.size(), 0u);
  EXPECT_THROW(serve::compare_page(db, 2, {}), ConfigError);  // no metric to compare: the server's 400
}

TEST_F(Pages, RunsFilterByStatusAndParameterAndSort) {
  Database db(path, Database::Access::read_only);
  const Table all = serve::runs_table(db, 1, {});
  EXPECT_EQ(all.columns, (std::vector<std::string>{"run", "seed", "status", "step", "steps", "loss.plugin",
                                                   "q.score final", "q.score best"}));
  ASSERT_EQ(all.rows.size(), 7u);
  EXPECT_EQ(all.rows[3], (std::vector<std::string>{"4", "0", "completed", "0", "10", "hinge", "10", "10"}));
  const Table hinge =
      serve::runs_table(db, 1, {{"param", "loss.plugin=hinge"}, {"sort", "q.score final"}, {"desc", "1"}});
  ASSERT_EQ(hinge.rows.size(), 3u);
  EXPECT_EQ(hinge.rows[0][0], "6");
  EXPECT_EQ(hinge.rows[2][0], "4");
  EXPECT_EQ(serve::runs_table(db, 1, {{"status", "failed"}}).rows.size(), 1u);
  try {
    serve::runs_table(db, 1, {{"sort", "nope"}});
    ADD_FAILURE();
  } catch (const serve::HttpError& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(std::string(e.what()), "no column 'nope' to sort by");
  }
  EXPECT_THROW(serve::runs_table(db, 1, {{"metric", "q.nope"}}), ConfigError);
}

// The comparison is gantry compare's own: the same heading, table and seed-noise line.
TEST_F(Pages, TheComparisonIsGantryCompares) {
  Database db(path, Database::Access::read_only);
  const std::string page = serve::compare_page(db, 1, {});
  const Comparison c = compare_runs(db, {{hostile}, "", {}, "final", false});
  for (const std::string& line : comparison_footer(c)) EXPECT_TRUE(has(page, "<p>" + html_escape(line) + "</p>"));
  EXPECT_TRUE(has(page, "<p>best vs runner-up: Welch's t-test t = "));
  EXPECT_TRUE(has(page, "<tr><td>*1</td><td>hinge</td><td class=\"num\">3</td><td class=\"num\">11.0</td>"));
  EXPECT_EQ(serve::compare_table(db, 1, {{"metric", "q.score"}}, Format::table).rows, comparison_table(c).rows);
}

// The page's ± and its reference group are compare's --error and --versus, in its form and its exports.
TEST_F(Pages, TheComparisonTakesTheErrorAndTheReferenceGroup) {
  Database db(path, Database::Access::read_only);
  const serve::Params params{{"error", "se"}, {"versus", "loss.plugin=minimax"}};
  CompareOptions o{{hostile}, "", {}, "final", false};
  o.spread = Spread::std_error;
  o.versus = {"loss.plugin=minimax"};
  const Comparison c = compare_runs(db, o);
  EXPECT_EQ(serve::compare_table(db, 1, params, Format::table).rows, comparison_table(c).rows);
  const std::vector<std::string> columns = serve::compare_table(db, 1, params, Format::table).columns;
  EXPECT_EQ(columns, comparison_table(c).columns);
  EXPECT_NE(std::find(columns.begin(), columns.end(), "se"), columns.end());
  EXPECT_NE(std::find(columns.begin(), columns.end(), "p vs loss.plugin=minimax"), columns.end());
  const std::string page = serve::compare_page(db, 1, params);
  EXPECT_TRUE(has(page, "<option value=\"se\" selected>standard error</option>"));
  EXPECT_TRUE(has(page, "name=\"versus\" value=\"loss.plugin=minimax\""));
  EXPECT_TRUE(has(page, "compare.csv?at=final&amp;error=se&amp;metric=q.score&amp;versus=loss.plugin%3Dminimax"));
  // The curves' band is the table's ±.
  EXPECT_TRUE(has(page, "curves.svg?error=se&amp;metric=q.score"));
  EXPECT_TRUE(has(serve::curves_page_svg(db, 1, {{"error", "se"}}), "q.score, mean ± standard error over seeds"));
  EXPECT_TRUE(has(serve::curves_page_svg(db, 1, {}), "q.score, mean ± std over seeds"));
  try {
    serve::compare_page(db, 1, {{"error", "sd"}});
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "--error takes std (the seeds' standard deviation) or se (the standard error of the mean), not 'sd'");
  }
  EXPECT_THROW(serve::compare_page(db, 1, {{"versus", "loss.plugin=nope"}}), ConfigError);
  // The form's one field holds several settings, space-separated.
  EXPECT_EQ(serve::compare_table(db, 1, {{"error", "se"}, {"versus", " loss.plugin=minimax "}}, Format::table).rows, comparison_table(c).rows);
  try {  // split at the space: the second setting is refused on its own
    serve::compare_page(db, 1, {{"versus", "loss.plugin=minimax seed=1"}});
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "--versus takes KEY=VALUE with KEY one of the grouping (loss.plugin), not 'seed=1'");
  }
}

TEST_F(Pages, LiveJsonListsCountsAndUnfinishedRuns) {
  {
    Database w(path);
    w.exec("UPDATE runs SET status = 'running', step = 4 WHERE id = 2");
  }
  Database db(path, Database::Access::read_only);
  EXPECT_EQ(serve::live_json(db, 1),
            "{\"experiment\": 1, \"counts\": {\"completed\": 5, \"failed\": 1, \"running\": 1}, "
            "\"active\": [{\"id\": 2, \"status\": \"running\", \"step\": 4, \"steps\": 10}]}\n");
  EXPECT_EQ(serve::run_json(db, 7), "{\"id\": 7, \"status\": \"failed\", \"step\": 0, \"steps\": 10}\n");
  const serve::Artifact a = serve::artifact(db, 1, 10);
  EXPECT_EQ(a.mime, "image/png");
  EXPECT_EQ(a.bytes, std::string("\x89PNG", 4));
}

TEST(Svg, RoundTicksAndBandsClippedToTheValues) {
  EXPECT_EQ(nice_ticks(0, 1), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1}));
  EXPECT_EQ(nice_ticks(3, 97), (std::vector<double>{0, 20, 40, 60, 80, 100}));
  EXPECT_EQ(nice_ticks(-0.03, 0.07), (std::vector<double>{-0.04, -0.02, 0, 0.02, 0.04, 0.06, 0.08}));
  const Curve accuracy{"a", {0, 10}, {0.9, 1.0}, {0.2, 0.0}, {0.6, 1.0}, {1.0, 1.0}};
  EXPECT_EQ(band_at(accuracy, 0), (std::pair<double, double>{0.7, 1.0}));
  // One curve whose label is markup: escaped in the legend; its band and line drawn.
  const std::string svg = curves_svg({{hostile, {0, 10}, {0, 1}, {0.5, 0.5}, {0, 0}, {1, 1}}}, "t<", "y&");
  EXPECT_TRUE(has(svg, ">&lt;script&gt;alert(1)&lt;/script&gt;</text>"));
  EXPECT_TRUE(has(svg, ">t&lt;</text>"));
  EXPECT_TRUE(has(svg, ">y&amp;</text>"));
  EXPECT_FALSE(has(svg, hostile));
  // The y axis runs 0..1 (the band clipped to the values), so its ticks are 0, 0.2, ..., 1.
  EXPECT_TRUE(has(svg, "text-anchor=\"end\">0.2</text>"));
  EXPECT_FALSE(has(svg, ">1.2</text>"));
  EXPECT_TRUE(has(svg, "<polyline points=\"70.0,376.0 570.0,40.0 \""));
}

}  // namespace
}  // namespace gantry
