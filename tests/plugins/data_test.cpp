#include "support/plugins.hpp"

#include <gantry/data.hpp>
#include <gantry/model.hpp>

#include <cmath>
#include <gtest/gtest.h>
#include <set>

namespace gantry {
namespace {

TEST(Ring8, EightDistinctModesEvenlyOnTheUnitCircle) {
  auto data = test::make<DataSource>(PluginKind::data, "ring8");
  const ModeSet* m = data->modes();
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->centers.dim(0), 8);
  EXPECT_DOUBLE_EQ(m->stddev, 0.01);
  for (int64_t i = 0; i < 8; ++i) {
    const double angle = std::atan2(m->centers[2 * i + 1], m->centers[2 * i]);
    EXPECT_NEAR(std::hypot(m->centers[2 * i], m->centers[2 * i + 1]), 1.0, 1e-6);
    const double expected = 2 * M_PI * static_cast<double>(i) / 8;
    EXPECT_NEAR(std::remainder(angle - expected, 2 * M_PI), 0.0, 1e-6) << "mode " << i;
  }
  // The classic bug (linspace(0, 2π, 8)) puts the last mode on the first.
  EXPECT_GT(std::hypot(m->centers[14] - m->centers[0], m->centers[15] - m->centers[1]), 0.5);
}

TEST(Ring8, SamplesSpreadOverAllModesWithTheirStd) {
  auto data = test::make<DataSource>(PluginKind::data, "ring8", {{"radius", 2.0}, {"std", 0.1}});
  Tensor x({8000, 2});
  Rng rng(3);
  data->sample(rng, x);
  double r2 = 0;
  for (int64_t i = 0; i < 8000; ++i) r2 += std::hypot(x[2 * i], x[2 * i + 1]);
  EXPECT_NEAR(r2 / 8000, 2.0, 0.01);
}

TEST(Grid25, MeansOnTheGrid) {
  auto data = test::make<DataSource>(PluginKind::data, "grid25");
  const ModeSet* m = data->modes();
  ASSERT_EQ(m->centers.dim(0), 25);
  std::set<std::pair<int, int>> seen;
  for (int64_t i = 0; i < 25; ++i) seen.insert({static_cast<int>(m->centers[2 * i]), static_cast<int>(m->centers[2 * i + 1])});
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_TRUE(seen.count({-4, -4}) && seen.count({4, 4}) && seen.count({0, 0}) && seen.count({-2, 4}));
  EXPECT_DOUBLE_EQ(m->stddev, 0.05);
}

TEST(SwissRoll, PointsLieWithinTheScaledRoll) {
  auto data = test::make<DataSource>(PluginKind::data, "swissroll");
  EXPECT_EQ(data->modes(), nullptr);
  Tensor x({1000, 2});
  Rng rng(4);
  data->sample(rng, x);
  double max_r = 0;
  for (int64_t i = 0; i < 1000; ++i) max_r = std::max(max_r, static_cast<double>(std::hypot(x[2 * i], x[2 * i + 1])));
  EXPECT_LT(max_r, 4.5 * M_PI / 7.5 + 0.3);
  EXPECT_GT(max_r, 1.0);
}

TEST(MlpModels, GeneratorAndDiscriminatorShapes) {
  auto gen = test::make<Generator>(PluginKind::generator, "mlp", {{"width", int64_t{8}}, {"depth", int64_t{2}}});
  auto disc = test::make<Discriminator>(PluginKind::discriminator, "mlp", {{"width", int64_t{8}}});
  Tensor z({5, gen->latent_dim()});
  const Tensor& x = gen->layer().forward(z);
  EXPECT_EQ(x.shape(), (std::vector<int64_t>{5, 2}));
  EXPECT_EQ(disc->layer().forward(x).shape(), (std::vector<int64_t>{5, 1}));
  EXPECT_EQ(gen->layer().describe(), "Linear(16, 8) - ReLU - Linear(8, 8) - ReLU - Linear(8, 2)");
}

}  // namespace
}  // namespace gantry
