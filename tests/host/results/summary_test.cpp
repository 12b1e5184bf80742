// A paper's table: several metrics side by side, each as mean ± error bar, on a hand-built database.
#include "results/summary.hpp"

#include "support/results_db.hpp"
#include "support/experiments.hpp"

#include <gantry/error.hpp>

#include <cmath>
#include <gtest/gtest.h>
#include <sstream>

namespace gantry {
namespace {

TEST(MeanWithError, RoundsTheErrorAsPapersDoAndTheMeanToItsPlace) {
  // The PacGAN paper's own cells.
  EXPECT_EQ(mean_with_error(6.3, 0.5), "6.3 ± 0.5");
  EXPECT_EQ(mean_with_error(0.45, 0.09), "0.45 ± 0.09");
  EXPECT_EQ(mean_with_error(95.9, 1.4), "95.9 ± 1.4");
  EXPECT_EQ(mean_with_error(24.8, 0.2), "24.8 ± 0.2");
  // Two digits while the error starts with a 1, one from 2.
  EXPECT_EQ(mean_with_error(17.2549, 0.1949), "17.25 ± 0.19");
  EXPECT_EQ(mean_with_error(17.2549, 0.1951), "17.25 ± 0.20");
  EXPECT_EQ(mean_with_error(17.2549, 0.2049), "17.3 ± 0.2");
  EXPECT_EQ(mean_with_error(0.071234, 0.0156), "0.071 ± 0.016");
  // Errors of 10 and more round the mean to tens, hundreds, ...
  EXPECT_EQ(mean_with_error(1234.5, 43), "1230 ± 40");
  EXPECT_EQ(mean_with_error(1234.5, 12.5), "1235 ± 13");
  EXPECT_EQ(mean_with_error(98765, 2100), "99000 ± 2000");
  EXPECT_EQ(mean_with_error(2, 0.001), "2.0000 ± 0.0010");  // log10(0.001) is not exactly −3
  // No error bar (one value), no spread at all, no mean.
  EXPECT_EQ(mean_with_error(3.14159, std::nan("")), "3.14");
  EXPECT_EQ(mean_with_error(8, 0), "8 ± 0");
  EXPECT_EQ(mean_with_error(2.0794415, 0), "2.08 ± 0");  // ln 8, a reverse KL every seed reached
  EXPECT_EQ(mean_with_error(std::nan(""), 0.1), "nan");
}

// Two packs of three seeds: pack 1 modes {6, 7, 8}, quality {0.9, 0.95, 1}, KL {0.5, 0.4, 0.3};
// pack 4 modes {8, 8, 8}, quality {0.8, 0.9, 0.85}, KL {0.05, 0.1, 0.06}; pack 2 one seed.
class Summary : public ::testing::Test {
 protected:
  test::TempDir dir;
  std::filesystem::path path = dir.path / "r.db";
  void SetUp() override {
    test::ResultsDb r(path);
    r.experiment(1, "packs", R"('["discriminator.pack"]')", R"('["modes"]')");
    r.metric_key("modes.modes", "higher", true);
    r.metric_key("modes.high_quality", "higher", false);
    r.metric_key("modes.reverse_kl", "lower", false);
    const double pack1[3][3] = {{6, 0.9, 0.5}, {7, 0.95, 0.4}, {8, 1, 0.3}};
    const double pack4[3][3] = {{8, 0.8, 0.05}, {8, 0.9, 0.1}, {8, 0.85, 0.06}};
    for (int seed = 0; seed < 3; ++seed) {
      r.run(1, seed, "completed", {{"discriminator.pack", "1"}}, values(pack1[seed]));
      r.run(1, seed, "completed", {{"discriminator.pack", "4"}}, values(pack4[seed]));
    }
    r.run(1, 0, "completed", {{"discriminator.pack", "2"}}, values(pack1[0]));
  }
  static std::vector<std::pair<std::string, double>> values(const double (&v)[3]) {
    return {{"modes.modes", v[0]}, {"modes.high_quality", v[1]}, {"modes.reverse_kl", v[2]}};
  }
  std::vector<Comparison> compare(Spread spread) {
    Database db(path, Database::Access::read_only);
    std::vector<Comparison> out;
    for (const char* metric : {"modes.modes", "modes.high_quality", "modes.reverse_kl"}) {
      CompareOptions o{{"packs"}, metric, {}, "final"};
      o.spread = spread;
      out.push_back(compare_runs(db, o));
    }
    return out;
  }
  static std::string printed(const std::vector<Comparison>& c, Format format) {
    std::ostringstream out;
    write_table(out, summary_table(c, format), format);
    return out.str();
  }
};

TEST_F(Summary, OneRowPerGroupRankedByTheFirstMetricWithStandardErrors) {
  const auto c = compare(Spread::std_error);
  EXPECT_EQ(summary_heading(c),
            "packs: modes.modes (higher is better), modes.high_quality (higher is better), modes.reverse_kl (lower is "
            "better) at each run's last step, grouped by its sweep: discriminator.pack; completed runs only; mean ± "
            "standard error of the mean (std/√n) over seeds; ranked by modes.modes");
  // Pack 1: modes 7 ± 1/√3 = 0.577; quality 0.95 ± 0.05/√3 = 0.0289; KL 0.4 ± 0.1/√3 = 0.0577.
  // Pack 4: modes 8 ± 0; quality 0.85 ± 0.0289; KL 0.07 ± 0.0265/√3 = 0.0153. Pack 2: one seed.
  EXPECT_EQ(printed(c, Format::table),
            "rank  discriminator.pack  n  modes.modes  p vs best  modes.high_quality  modes.reverse_kl\n"
            "*1    4                   3  8 ± 0                   0.85 ± 0.03         0.070 ± 0.015\n"
            "2     1                   3  7.0 ± 0.6        0.225  0.95 ± 0.03         0.40 ± 0.06\n"
            "3     2                   1  6                       0.9                 0.5\n");
}

// The p column is the ranking metric's Welch test against the group --versus names.
TEST_F(Summary, ThePColumnTestsTheRankingMetricAgainstTheVersusGroup) {
  Database db(path, Database::Access::read_only);
  std::vector<Comparison> c;
  for (const char* metric : {"modes.reverse_kl", "modes.modes"}) {
    CompareOptions o{{"packs"}, metric, {}, "final"};
    o.spread = Spread::std_error;
    o.versus = {"discriminator.pack=1"};
    c.push_back(compare_runs(db, o));
  }
  // Reverse KL {0.05, 0.1, 0.06} against {0.5, 0.4, 0.3}: Welch's t = 5.53 on 2.28 df.
  EXPECT_EQ(printed(c, Format::table),
            "rank  discriminator.pack  n  modes.reverse_kl  p vs discriminator.pack=1  modes.modes\n"
            "*1    4                   3  0.070 ± 0.015                        0.0232  8 ± 0\n"
            "2     1                   3  0.40 ± 0.06                                  7.0 ± 0.6\n"
            "3     2                   1  0.5                                          6\n");
}

TEST_F(Summary, StandardDeviationsAndTwoNumericColumnsPerMetricForData) {
  const auto c = compare(Spread::stddev);
  EXPECT_EQ(printed(c, Format::csv),
            "rank,discriminator.pack,n,modes.modes,modes.modes std,p vs best,modes.high_quality,modes.high_quality std,"
            "modes.reverse_kl,modes.reverse_kl std\n"
            "*1,4,3,8,0,,0.8500000000000001,0.04999999999999999,0.07,0.02645751311064591\n"
            "2,1,3,7,1,0.225,0.9500000000000001,0.04999999999999999,0.39999999999999997,0.1\n"
            "3,2,1,6,,,0.9,,0.5,\n");
}

TEST(SummaryErrors, NeedsAMetric) {
  EXPECT_THROW(summary_table({}, Format::table), ConfigError);
}

}  // namespace
}  // namespace gantry
