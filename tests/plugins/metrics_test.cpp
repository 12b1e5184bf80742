// Metrics on cases with known answers.
#include "support/plugins.hpp"

#include <gantry/data.hpp>
#include <gantry/layers.hpp>
#include <gantry/metric.hpp>
#include <gantry/model.hpp>

#include <cmath>
#include <gtest/gtest.h>

namespace gantry {
namespace {

// Stand-ins for G and D whose outputs we know: G copies z's first two coordinates; D's logit is
// the first coordinate of its input (x > 0 ⇒ "real").
class CopyGenerator final : public Generator {
 public:
  CopyGenerator() {
    Rng rng(0);
    net_.emplace<Linear>(2, 2, rng);
    auto& l = static_cast<Linear&>(net_.at(0));
    l.weight().value = Tensor({2, 2}, {1, 0, 0, 1});
    l.bias().value.fill(0);
  }
  Layer& layer() override { return net_; }
  int64_t latent_dim() const override { return 2; }
  Sequential net_;
};

class FirstCoordinate final : public Discriminator {
 public:
  FirstCoordinate() {
    Rng rng(0);
    auto& l = net_.emplace<Linear>(2, 1, rng);
    l.weight().value = Tensor({1, 2}, {1, 0});
    l.bias().value.fill(0);
  }
  Layer& layer() override { return net_; }
  Sequential net_;
};

// Real data: all mass at x = +1 (so D calls every real sample real).
class RightPoint final : public DataSource {
 public:
  std::vector<int64_t> sample_shape() const override { return {2}; }
  void sample(Rng&, Tensor& out) override {
    for (int64_t i = 0; i < out.dim(0); ++i) out[2 * i] = 1.0f, out[2 * i + 1] = 0.0f;
  }
};

struct Evaluation {
  std::unique_ptr<DataSource> data = test::make<DataSource>(PluginKind::data, "ring8");
  CopyGenerator gen;
  FirstCoordinate disc;
  Rng rng{5};

  std::vector<double> modes(const Tensor& generated, std::span<const int32_t> labels = {}) {
    auto metric = test::make<Metric>(PluginKind::metric, "modes");
    EvalContext ctx{*data, gen, disc, generated, rng, 0, labels};
    return metric->evaluate(ctx);
  }
};

// A 2D Gaussian sample lies within 3 std (Euclidean) of its mean with probability
// P(χ²₂ ≤ 9) = 1 − e^−4.5 = 98.89%: that is the high-quality share of perfect samples.
constexpr double perfect_high_quality = 100.0 * (1.0 - 0.011108996538242306);

TEST(ModesMetric, RealSamplesCoverAllModesWithHighQuality) {
  Evaluation e;
  Tensor real({2500, 2});
  Rng rng(1);
  e.data->sample(rng, real);
  const auto v = e.modes(real);
  EXPECT_NEAR(v[0], perfect_high_quality, 0.65);  // 3 binomial std at n = 2500
  EXPECT_EQ(v[1], 8.0);
  EXPECT_LT(v[2], 0.01);
}

TEST(ModesMetric, ClassHitIsTheShareOfSamplesAtTheModeTheyWereGeneratedFor) {
  Evaluation e;
  Tensor real({2500, 2});
  std::vector<int32_t> labels(2500);
  Rng rng(1);
  e.data->sample_labelled(rng, real, labels);
  EXPECT_TRUE(std::isnan(e.modes(real)[3])) << "no labels: no class score";
  EXPECT_NEAR(e.modes(real, labels)[3], perfect_high_quality, 1.0);
  for (int32_t& l : labels) l = (l + 1) % 8;  // every sample at the neighbour of its asked-for mode
  const auto shifted = e.modes(real, labels);
  EXPECT_EQ(shifted[3], 0.0);
  EXPECT_EQ(shifted[1], 8.0);  // the unconditional keys do not look at labels
  labels.pop_back();
  try {
    e.modes(real, labels);
    FAIL() << "no error";
  } catch (const PluginError& err) {
    EXPECT_STREQ(err.what(), "metric 'modes': labels must be one mode index (0..7) per sample");
  }
}

TEST(ModesMetric, CollapsedSamplesCoverOneMode) {
  Evaluation e;
  Tensor collapsed({2500, 2});
  Rng rng(2);
  for (int64_t i = 0; i < 2500; ++i) {
    collapsed[2 * i] = 0.0f + 0.01f * static_cast<float>(rng.normal());
    collapsed[2 * i + 1] = 1.0f + 0.01f * static_cast<float>(rng.normal());  // the mode at 90°
  }
  const auto v = e.modes(collapsed);
  EXPECT_NEAR(v[0], perfect_high_quality, 0.65);
  EXPECT_EQ(v[1], 1.0);
  EXPECT_NEAR(v[2], std::log(8.0), 1e-12);  // all mass on one of 8 modes
}

TEST(ModesMetric, UniformNoiseIsRarelyHighQuality) {
  Evaluation e;
  Tensor noise({2500, 2});
  Rng rng(3);
  rng.fill_uniform(noise.values(), -2.0f, 2.0f);
  const auto v = e.modes(noise);
  // 8 discs of radius 0.03 cover 0.14% of the 4x4 square.
  EXPECT_LT(v[0], 1.0);
}

TEST(ModesMetric, NoHighQualitySampleGivesMaximalReverseKl) {
  Evaluation e;
  Tensor far({10, 2});
  far.fill(10.0f);
  const auto v = e.modes(far);
  EXPECT_EQ(v[0], 0.0);
  EXPECT_EQ(v[1], 0.0);
  EXPECT_NEAR(v[2], std::log(8.0), 1e-12);
}

TEST(ModesMetric, RefusesDataWithoutModes) {
  Evaluation e;
  e.data = test::make<DataSource>(PluginKind::data, "swissroll");
  Tensor x({4, 2});
  EXPECT_THROW(e.modes(x), PluginError);
}

TEST(DiscAccuracyMetric, KnownClassifier) {
  // Real samples sit at x = +1 (all called real). Fakes are G(z) = z ~ N(0, I): half have x > 0
  // and are called real. Accuracy = (n + n/2) / 2n = 0.75; F1 = 2n / (2n + n/2) = 0.8.
  RightPoint data;
  CopyGenerator gen;
  FirstCoordinate disc;
  Rng rng(9);
  Tensor generated({1, 2});
  EvalContext ctx{data, gen, disc, generated, rng, 0};
  auto metric = test::make<Metric>(PluginKind::metric, "disc_accuracy", {{"samples", int64_t{20000}}});
  const auto v = metric->evaluate(ctx);
  EXPECT_NEAR(v[0], 0.75, 0.01);
  EXPECT_NEAR(v[1], 0.8, 0.01);
}

}  // namespace
}  // namespace gantry
