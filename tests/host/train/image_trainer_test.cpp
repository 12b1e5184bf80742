// The trainer on images: DCGAN plugins on Fashion-MNIST, sample grids, a batch-coupled D.
#include "config/experiment.hpp"
#include "train/trainer.hpp"

#include "support/experiments.hpp"
#include "support/plugins.hpp"
#include "support/recorder.hpp"

#include <gantry/model.hpp>

#include <cairo.h>
#include <gtest/gtest.h>
#include <map>

namespace gantry {
namespace {

using test::Recorder;

// Width and height of a PNG held in memory.
std::pair<int, int> png_size(const std::string& png) {
  size_t at = 0;
  auto read = [](void* closure, unsigned char* data, unsigned int length) -> cairo_status_t {
    auto* state = static_cast<std::pair<const std::string*, size_t*>*>(closure);
    if (*state->second + length > state->first->size()) return CAIRO_STATUS_READ_ERROR;
    std::copy_n(state->first->data() + *state->second, length, data);
    *state->second += length;
    return CAIRO_STATUS_SUCCESS;
  };
  std::pair<const std::string*, size_t*> state{&png, &at};
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(read, &state);
  const std::pair<int, int> size{cairo_image_surface_get_width(s), cairo_image_surface_get_height(s)};
  cairo_surface_destroy(s);
  return size;
}

TEST(ImageTrainer, DcganOnFashionMnistStoresASampleGridAtEachEvaluation) {
  const Experiment exp = parse_experiment(test::tiny_dcgan_experiment("", "sample_grid = 4"), "dcgan.toml", test::builtin_registry());
  Recorder rec;
  Trainer trainer(exp.trials[0].config, rec);
  std::vector<int64_t> shape;
  trainer.on_evaluation([&](int64_t, const Tensor& generated) { shape = generated.shape(); });
  ASSERT_EQ(trainer.run().outcome, TrialOutcome::completed);
  EXPECT_EQ(shape, (std::vector<int64_t>{20, 1, 28, 28}));
  ASSERT_EQ(rec.pictures.size(), 3u);  // steps 0, 2 and 4
  // 4 × 4 images of 28 × 3 pixels with 2-pixel gutters.
  EXPECT_EQ(png_size(rec.pictures.at(4)), std::make_pair(4 * 84 + 5 * 2, 4 * 84 + 5 * 2));
  EXPECT_TRUE(std::isfinite(rec.points.at({"loss.d", 4})));
}

TEST(ImageTrainer, NoGridWhenTurnedOff) {
  const Experiment exp = parse_experiment(test::tiny_dcgan_experiment("", "sample_grid = 0"), "dcgan.toml", test::builtin_registry());
  Recorder rec;
  ASSERT_EQ(Trainer(exp.trials[0].config, rec).run().outcome, TrialOutcome::completed);
  EXPECT_TRUE(rec.pictures.empty());
}

TEST(ImageTrainer, BatchNormInDShowsItRealAndFakeSeparately) {
  // With batch norm in D, a concatenated batch would let D compare real and fake statistics;
  // the trainer gives each its own batch (two forwards and backwards of B rows, not one of 2B,
  // which the layer plans would refuse to mix up). The flag that selects the path comes from D.
  const Experiment exp = parse_experiment(test::tiny_dcgan_experiment("batch_norm = true"), "dcgan.toml", test::builtin_registry());
  Recorder rec;
  ASSERT_EQ(Trainer(exp.trials[0].config, rec).run().outcome, TrialOutcome::completed);
  EXPECT_TRUE(std::isfinite(rec.points.at({"loss.d", 4})));
  auto d = test::make<Discriminator>(PluginKind::discriminator, "dcgan", {{"channels", int64_t{4}}, {"batch_norm", true}},
                                     {{1, 28, 28}, 0});
  EXPECT_TRUE(d->layer().couples_batch());
  auto plain = test::make<Discriminator>(PluginKind::discriminator, "dcgan", {{"channels", int64_t{4}}}, {{1, 28, 28}, 0});
  EXPECT_FALSE(plain->layer().couples_batch());
}

TEST(ImageTrainer, RelativisticLossWithBatchNormInD) {
  // The G step's real batch goes through a batch-coupled D on its own, as in the critic step.
  std::string toml = test::tiny_dcgan_experiment("batch_norm = true");
  toml.replace(toml.find("\"nonsaturating\""), 15, "\"ragan\"");
  const Experiment exp = parse_experiment(toml, "dcgan.toml", test::builtin_registry());
  Recorder rec;
  const TrialResult result = Trainer(exp.trials[0].config, rec).run();
  ASSERT_EQ(result.outcome, TrialOutcome::completed) << result.message;
  EXPECT_EQ(result.g_updates, 4);
  EXPECT_TRUE(std::isfinite(rec.points.at({"loss.g", 4})));
}

TEST(ImageTrainer, DcganRefusesNonImageData) {
  const std::string toml = R"([data]
plugin = "ring8"
[generator]
plugin = "dcgan"
[discriminator]
plugin = "dcgan"
[loss]
plugin = "nonsaturating"
[train]
steps = 1
)";
  const Experiment exp = parse_experiment(toml, "bad.toml", test::builtin_registry());
  Recorder rec;
  try {
    Trainer(exp.trials[0].config, rec).run();
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("multiples of 4"), std::string::npos) << e.what();
  }
}

// The ResNet plugins through the trainer: SNGAN's setting in miniature (hinge loss, two critic
// updates per step, spectral norm), and a WGAN-GP critic whose exact penalty runs through the
// residual blocks' dual mode.
std::string tiny_resnet_experiment(const std::string& d_extra, const std::string& loss, const std::string& n_critic) {
  return R"([data]
plugin = "fashion_mnist"
classes = [1, 7]
[generator]
plugin = "resnet"
latent_dim = 8
channels = 4
[discriminator]
plugin = "resnet"
channels = 4
)" + d_extra + R"(
[loss]
)" + loss + R"(
[optimizer]
lr = 2e-4
beta1 = 0.0
beta2 = 0.9
[train]
steps = 3
batch_size = 8
log_every = 1
eval_every = 3
eval_samples = 16
n_critic = )" + n_critic + "\n";
}

TEST(ImageTrainer, ResnetWithHingeLossTrains) {
  const Experiment exp = parse_experiment(tiny_resnet_experiment("", "plugin = \"hinge\"", "2"), "resnet.toml",
                                          test::builtin_registry());
  Recorder rec;
  std::vector<int64_t> shape;
  Trainer trainer(exp.trials[0].config, rec);
  trainer.on_evaluation([&](int64_t, const Tensor& generated) { shape = generated.shape(); });
  const TrialResult result = trainer.run();
  ASSERT_EQ(result.outcome, TrialOutcome::completed) << result.message;
  EXPECT_EQ(result.g_updates, 3);
  EXPECT_EQ(shape, (std::vector<int64_t>{16, 1, 28, 28}));
  for (int64_t step = 1; step <= 3; ++step) {
    EXPECT_TRUE(std::isfinite(rec.points.at({"loss.d", step}))) << step;
    EXPECT_TRUE(std::isfinite(rec.points.at({"loss.g", step}))) << step;
  }
}

TEST(ImageTrainer, ResnetCriticTakesTheExactGradientPenalty) {
  const Experiment exp = parse_experiment(
      tiny_resnet_experiment("spectral_norm = false", "plugin = \"wasserstein\"\nmode = \"gp\"", "1"), "resnet.toml",
      test::builtin_registry());
  Recorder rec;
  const TrialResult result = Trainer(exp.trials[0].config, rec).run();
  ASSERT_EQ(result.outcome, TrialOutcome::completed) << result.message;
  EXPECT_TRUE(std::isfinite(rec.points.at({"loss.d", 3})));
}

}  // namespace
}  // namespace gantry
