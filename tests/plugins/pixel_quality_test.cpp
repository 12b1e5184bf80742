// pixel_quality on cases with a known answer: a sample identical to the data, one collapsed
// image, noise, and constant images whose 1-pixel pooling makes FD a closed form.
#include "config/experiment.hpp"
#include "train/trainer.hpp"

#include "support/experiments.hpp"
#include "support/plugins.hpp"
#include "support/recorder.hpp"

#include <gantry/data.hpp>
#include <gantry/layers.hpp>
#include <gantry/metric.hpp>
#include <gantry/model.hpp>

#include <algorithm>
#include <map>
#include <gtest/gtest.h>

namespace gantry {
namespace {

// The data: a fixed set of images, every draw starting again from the first.
class FixedImages final : public DataSource {
 public:
  explicit FixedImages(Tensor images) : images_(std::move(images)) {}
  std::vector<int64_t> sample_shape() const override {
    return {images_.dim(1), images_.dim(2), images_.dim(3)};
  }
  void sample(Rng&, Tensor& out) override {
    const int64_t d = images_.sample_size();
    for (int64_t i = 0; i < out.dim(0); ++i)
      std::copy_n(images_.data() + (i % images_.dim(0)) * d, d, out.data() + i * d);
  }

 private:
  Tensor images_;
};

class NoGenerator final : public Generator {
 public:
  Layer& layer() override { return net_; }
  int64_t latent_dim() const override { return 2; }
  Sequential net_;
};

class NoDiscriminator final : public Discriminator {
 public:
  Layer& layer() override { return net_; }
  Sequential net_;
};

// n grey 12 × 12 images: a dark background and a 4 × 4 square of random brightness at a random place.
Tensor squares(int64_t n, uint64_t seed) {
  Tensor out({n, 1, 12, 12});
  out.fill(-1);
  Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t x0 = static_cast<int64_t>(rng.uniform() * 9), y0 = static_cast<int64_t>(rng.uniform() * 9);
    const auto v = static_cast<float>(rng.uniform());
    for (int64_t y = y0; y < y0 + 4; ++y)
      for (int64_t x = x0; x < x0 + 4; ++x) out[i * 144 + y * 12 + x] = v;
  }
  return out;
}

constexpr int64_t n = 300;

// What evaluate() sees besides the data and the sample: no networks, a fixed stream.
struct Stage {
  NoGenerator gen;
  NoDiscriminator disc;
  Rng rng{3};
  EvalContext context(DataSource& data, const Tensor& generated) { return {data, gen, disc, generated, rng, 0}; }
};

struct Keys {
  double fd, kid, precision, recall, density, coverage;
};

Keys measure(const Tensor& data, const Tensor& generated,
             std::vector<std::pair<std::string, ParamValue>> params = {{"resolution", int64_t{6}}}) {
  if (std::none_of(params.begin(), params.end(), [](const auto& kv) { return kv.first == "reference_samples"; }))
    params.emplace_back("reference_samples", data.dim(0));
  params.emplace_back("kid_subset_size", int64_t{100});
  auto metric = test::make<Metric>(PluginKind::metric, "pixel_quality", params);
  FixedImages source(data);
  Stage stage;
  EvalContext ctx = stage.context(source, generated);
  const std::vector<double> v = metric->evaluate(ctx);
  EXPECT_EQ(v.size(), 6u);
  return {v[0], v[1], v[2], v[3], v[4], v[5]};
}

std::string error_of(const Tensor& data, const Tensor& generated, std::vector<std::pair<std::string, ParamValue>> params) {
  try {
    measure(data, generated, std::move(params));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(PixelQuality, ASampleIdenticalToTheDataScoresPerfectly) {
  const Tensor real = squares(n, 1);
  const Keys k = measure(real, real);
  EXPECT_NEAR(k.fd, 0.0, 1e-4);
  // KID draws its subsets of the two sets apart: what is left is their noise (a collapsed or a noise
  // sample scores 2 and more).
  EXPECT_NEAR(k.kid, 0.0, 0.02);
  EXPECT_EQ(k.precision, 1.0);
  EXPECT_EQ(k.recall, 1.0);
  EXPECT_EQ(k.coverage, 1.0);
  // Each real ball (radius: its 5th nearest neighbour) holds its own image and those 5: 6/5.
  EXPECT_NEAR(k.density, 6.0 / 5.0, 1e-9);
}

TEST(PixelQuality, AnotherSampleOfTheSameDataIsCloseButNotPerfect) {
  const Keys k = measure(squares(n, 1), squares(n, 2));
  EXPECT_LT(k.fd, 0.5);
  EXPECT_NEAR(k.kid, 0.0, 0.02);
  EXPECT_GT(k.precision, 0.8);
  EXPECT_GT(k.recall, 0.8);
  EXPECT_GT(k.coverage, 0.8);
  EXPECT_LT(k.recall, 1.0);  // 300 other images leave some real ones outside the fakes' balls
  EXPECT_GT(k.fd, 0.01);
}

TEST(PixelQuality, OneCollapsedImageHasPrecisionButNoRecall) {
  const Tensor real = squares(n, 1);
  Tensor collapsed({n, 1, 12, 12});
  for (int64_t i = 0; i < n; ++i) std::copy_n(real.data(), 144, collapsed.data() + i * 144);
  const Keys k = measure(real, collapsed);
  const Keys same = measure(real, squares(n, 2));
  EXPECT_EQ(k.precision, 1.0);          // the image is a real one
  EXPECT_LE(k.recall, 1.0 / n + 1e-12);  // only that real image lies in the fakes' zero-radius balls
  EXPECT_LT(k.coverage, 0.1);
  EXPECT_GT(k.fd, 10 * same.fd);
  EXPECT_GT(k.kid, 1.0);
}

TEST(PixelQuality, NoiseIsNowhereNearTheData) {
  const Tensor real = squares(n, 1);
  Tensor noise({n, 1, 12, 12});
  Rng rng(7);
  for (float& v : noise.values()) v = static_cast<float>(2 * rng.uniform() - 1);
  const Keys k = measure(real, noise);
  EXPECT_EQ(k.precision, 0.0);
  EXPECT_EQ(k.recall, 0.0);
  EXPECT_EQ(k.coverage, 0.0);
  EXPECT_EQ(k.density, 0.0);
  EXPECT_GT(k.kid, 1.0);
  EXPECT_GT(k.fd, 10 * measure(real, squares(n, 2)).fd);
}

TEST(PixelQuality, OnePixelPoolingMakesFdTheDistanceOfTheImageMeans) {
  // Constant images: pooled to 1 × 1 each is its value. Shifting every value by 0.5 leaves the
  // variance alone, so FD = 0.5² exactly.
  Tensor real({n, 1, 12, 12}), shifted({n, 1, 12, 12});
  for (int64_t i = 0; i < n; ++i) {
    const float v = -1.0f + static_cast<float>(i) / n;
    std::fill_n(real.data() + i * 144, 144, v);
    std::fill_n(shifted.data() + i * 144, 144, v + 0.5f);
  }
  EXPECT_NEAR(measure(real, shifted, {{"resolution", int64_t{1}}}).fd, 0.25, 1e-5);
}

TEST(PixelQuality, NotesSayTheFeaturesArePooledPixels) {
  auto metric = test::make<Metric>(PluginKind::metric, "pixel_quality", {{"reference_samples", int64_t{50}}});
  const Tensor real = squares(50, 1);
  FixedImages source(real);
  Stage stage;
  EvalContext ctx = stage.context(source, real);
  EXPECT_TRUE(metric->notes().empty());  // nothing is known before the first evaluation
  metric->evaluate(ctx);
  const auto notes = metric->notes();
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0], (std::pair<std::string, std::string>{"features", "pixels area-pooled to 8×8 per channel (64 values per image)"}));
  EXPECT_EQ(notes[1], (std::pair<std::string, std::string>{
                          "reference", "50 images drawn from the training data at each evaluation, repeats dropped (50 distinct at the first)"}));
}

// A data set smaller than the reference comes round again: the repeats are dropped, so the sample
// identical to the data still scores perfectly, and too few distinct images are refused.
TEST(PixelQuality, RepeatsInTheReferenceAreDropped) {
  const Tensor few = squares(40, 1);
  const Keys k = measure(Tensor(few), few, {{"resolution", int64_t{6}}, {"reference_samples", int64_t{200}}});
  EXPECT_EQ(k.precision, 1.0);
  EXPECT_EQ(k.recall, 1.0);
  EXPECT_EQ(k.coverage, 1.0);
  EXPECT_NEAR(k.density, 6.0 / 5.0, 1e-9);
  EXPECT_EQ(error_of(squares(5, 1), few, {{"reference_samples", int64_t{200}}}),
            "metric 'pixel_quality': the data gave only 5 distinct images; pr_k and dc_k need more");
}

TEST(PixelQuality, RefusesWhatItCannotMeasureSayingWhy) {
  const Tensor real = squares(20, 1);
  EXPECT_EQ(error_of(real, real, {{"resolution", int64_t{13}}}),
            "metric 'pixel_quality': resolution 13 exceeds the images (12×12); it pools, so it must be at most 12");
  Tensor colour({20, 3, 40, 40});
  EXPECT_EQ(error_of(colour, colour, {{"resolution", int64_t{17}}}),
            "metric 'pixel_quality': resolution 17 gives 867 values per image (3 channel(s)); FD's covariance allows "
            "at most 768, so resolution at most 16");
  EXPECT_EQ(error_of(real, Tensor({20, 2}), {}), "metric 'pixel_quality': G made samples [20, 2]; the data's are [1, 12, 12]");
  EXPECT_EQ(error_of(real, squares(5, 1), {}), "metric 'pixel_quality': [train] eval_samples (5) must exceed pr_k and dc_k");
  EXPECT_EQ(error_of(real, real, {{"reference_samples", int64_t{4}}}),
            "metric plugin 'pixel_quality': reference_samples (4) must exceed pr_k and dc_k");
  auto metric = test::make<Metric>(PluginKind::metric, "pixel_quality");
  auto ring = test::make<DataSource>(PluginKind::data, "ring8");
  Stage stage;
  Tensor points({20, 2});
  EvalContext ctx = stage.context(*ring, points);
  try {
    metric->evaluate(ctx);
    FAIL() << "2D data was measured";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "metric 'pixel_quality' measures images [C, H, W]; the data has samples [2]");
  }
}

TEST(PixelQuality, ATrialRecordsEveryKeyAndWhatMeasuredIt) {
  const Experiment exp = parse_experiment(test::tiny_dcgan_experiment("", "", R"([metrics.pixel_quality]
resolution = 7
reference_samples = 40
kid_subsets = 2
kid_subset_size = 20
)"),
                                          "pq.toml", test::builtin_registry());
  test::Recorder rec;
  ASSERT_EQ(Trainer(exp.trials[0].config, rec).run().outcome, TrialOutcome::completed);
  for (int64_t step : {2, 4})
    for (const char* key : {"fd", "kid", "precision", "recall", "density", "coverage"})
      EXPECT_TRUE(rec.points.count({std::string("pixel_quality.") + key, step})) << key << " at " << step;
  EXPECT_EQ(rec.notes.at("pixel_quality.features"), "pixels area-pooled to 7×7 per channel (49 values per image)");
  EXPECT_EQ(rec.notes.at("pixel_quality.reference"),
            "40 images drawn from the training data at each evaluation, repeats dropped (40 distinct at the first)");
}

// Fashion-MNIST walks shuffled epochs; the metric's draws come from that walk, and the trainer puts
// its position back, so a trial measured with pixel_quality trains on exactly the same batches.
TEST(PixelQuality, MeasuringDoesNotChangeWhatTheTrialTrainsOn) {
  auto points = [](const std::string& metrics) {
    std::string text = test::tiny_dcgan_experiment("", "", metrics);
    text.replace(text.find("eval_every = 2"), 14, "eval_every = 1");  // a draw before every step
    text.replace(text.find("log_every = 2"), 13, "log_every = 1");    // and every step's losses compared
    const Experiment exp = parse_experiment(text, "pq.toml", test::builtin_registry());
    test::Recorder rec;
    EXPECT_EQ(Trainer(exp.trials[0].config, rec).run().outcome, TrialOutcome::completed);
    std::map<std::pair<std::string, int64_t>, double> training;
    for (const auto& [key, value] : rec.points)
      if (key.first.rfind("pixel_quality.", 0) != 0) training.emplace(key, value);
    return training;
  };
  const auto plain = points("");
  EXPECT_GE(plain.size(), 8u);  // each of the 4 steps logs its losses
  EXPECT_EQ(points("[metrics.pixel_quality]\nreference_samples = 500\nkid_subset_size = 10\n"), plain);
}

}  // namespace
}  // namespace gantry
