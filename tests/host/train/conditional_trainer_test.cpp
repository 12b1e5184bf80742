// Class-conditional training ([train] conditional): what is refused before a run (located in the
// file), that a conditional G learns to draw the class it is asked for, that runs are
// reproducible, and that image grids show one class per row.
#include "run/preflight.hpp"
#include "train/trainer.hpp"

#include "support/experiments.hpp"
#include "support/plugins.hpp"
#include "support/recorder.hpp"

#include <gantry/conditional.hpp>

#include <cmath>
#include <fmt/format.h>
#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::Recorder;

std::vector<std::string> problems(const std::string& text) {
  return preflight(parse_experiment(text, "c.toml", test::builtin_registry()), {}).problems;
}

// Trains the file's first trial, which must complete; what it recorded.
Recorder train(const std::string& text) {
  const Experiment exp = parse_experiment(text, "c.toml", test::builtin_registry());
  Recorder rec;
  Trainer trainer(exp.trials[0].config, rec);
  const TrialResult r = trainer.run();
  EXPECT_EQ(r.outcome, TrialOutcome::completed) << r.message;
  return rec;
}

// ring8 with small MLPs, conditional.
std::string conditional_ring(int64_t steps, const std::string& data = "plugin = \"ring8\"") {
  std::string text = test::tiny_experiment("plugin = \"nonsaturating\"", steps, "conditional = true\n");
  text.replace(text.find("plugin = \"ring8\""), 16, data);
  return text;
}

TEST(ConditionalTraining, UnlabelledDataIsRefusedAtTheKey) {
  const auto p = problems(conditional_ring(2, "plugin = \"swissroll\""));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "c.toml:23:1: [train.conditional] conditional = true needs labelled data, but data 'swissroll' "
                  "(with these parameters) has no class labels");
}

TEST(ConditionalTraining, AFashionMnistClassSubsetIsRefusedAtTheKey) {
  const auto p = problems(test::tiny_dcgan_experiment("", "conditional = true"));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "c.toml:20:1: [train.conditional] conditional = true needs labelled data, but data "
                  "'fashion_mnist' (with these parameters) has no class labels");
}

TEST(ConditionalTraining, ConditionalBatchNormWithoutBatchNormIsRefusedAtTheGenerator) {
  std::string text = test::tiny_dcgan_experiment("", "conditional = true");
  text.replace(text.find("classes = [1, 7]\n"), 17, "");
  text.replace(text.find("channels = 4\n"), 13, "channels = 4\nbatch_norm = false\n");
  const auto p = problems(text);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "c.toml:3:2: [generator] generator plugin 'dcgan': condition = \"batch_norm\" makes the batch "
                  "norms conditional, but batch_norm is false");
}

// The projection head has a dual mode, so exact penalties apply; each penalty input is scored
// under the real batch's label (an interpolate, its real end's).
TEST(ConditionalTraining, AConditionalCriticTakesAGradientPenalty) {
  std::string text = conditional_ring(20);
  text.replace(text.find("plugin = \"nonsaturating\""), 24, "plugin = \"wasserstein\"\nmode = \"gp\"");
  EXPECT_TRUE(problems(text).empty());
  EXPECT_GT(train(text).points.at({"loss.penalty", 20}), 0.0);
}

// Every penalty input i is scored under real sample i's label: R1's inputs are the real batch,
// WGAN-GP's interpolates and DRAGAN's perturbed points are made from it. label_probe's first layer
// fails the trial when a penalty input's label is not the mode of the real sample it comes from:
// under the fake batch's labels, or with no labels set, these trials would fail. `offset = 1`
// shows the check firing, with each penalty's error located at its own section.
TEST(ConditionalTraining, APenaltyScoresEachInputUnderItsRealSamplesLabel) {
  Registry registry;
  registry.discover({GANTRY_TEST_PLUGIN_DIR, std::string(GANTRY_TEST_FIXTURE_DIR) + "/labels"});
  struct Case {
    std::string loss, train, error;
  };
  const std::vector<Case> cases = {
      {"plugin = \"hinge\"", "r1_gamma = 1.0\n", "the R1 penalty failed: "},
      {"plugin = \"wasserstein\"\nmode = \"gp\"", "", "loss 'wasserstein': its penalty failed: "},
      {"plugin = \"nonsaturating\"\ndragan = 10.0", "", "loss 'nonsaturating': its penalty failed: "}};
  for (const Case& c : cases) {
    for (const int offset : {0, 1}) {
      SCOPED_TRACE(c.loss + fmt::format(", offset {}", offset));
      std::string text = test::tiny_experiment(c.loss, 10, "conditional = true\n" + c.train);
      const std::string critic = "[discriminator]\nplugin = \"mlp\"\nwidth = 32\ndepth = 2\n";
      text.replace(text.find(critic), critic.size(),
                   fmt::format("[discriminator]\nplugin = \"label_probe\"\noffset = {}\n", offset));
      const Experiment exp = parse_experiment(text, "c.toml", registry);
      Recorder rec;
      Trainer trainer(exp.trials[0].config, rec);
      if (offset == 0) {
        const TrialResult r = trainer.run();
        EXPECT_EQ(r.outcome, TrialOutcome::completed) << r.message;
        EXPECT_GT(rec.points.at({"loss.penalty", 10}), 0.0);
        continue;
      }
      try {
        trainer.run();
        ADD_FAILURE() << "the check did not fire";
      } catch (const Error& e) {
        EXPECT_STREQ(e.what(), (c.error + "penalty input 0 comes from the real sample at mode 6 and should have "
                                          "label 7, not 6")
                                   .c_str());
      }
    }
  }
}

// Miyato & Koyama's setting on Fashion-MNIST in miniature: the ResNet G with conditional batch
// norm and the spectrally normalised projection critic, hinge loss, with R1 on the projection.
TEST(ConditionalTraining, AConditionalResnetTrainsWithAPenalty) {
  std::string text = test::tiny_dcgan_experiment("", "conditional = true\nr1_gamma = 1.0");
  text.replace(text.find("classes = [1, 7]\n"), 17, "");
  text.replace(text.find("plugin = \"dcgan\""), 16, "plugin = \"resnet\"");
  text.replace(text.find("plugin = \"dcgan\""), 16, "plugin = \"resnet\"");
  text.replace(text.find("plugin = \"nonsaturating\""), 24, "plugin = \"hinge\"");
  const Recorder rec = train(text);
  EXPECT_GT(rec.points.at({"loss.penalty", 4}), 0.0);
  EXPECT_TRUE(std::isfinite(rec.points.at({"loss.d", 4})));
}

TEST(ConditionalTraining, GLearnsToDrawTheModeItIsAskedFor) {
  // A loose threshold (20 std = 0.2) so that 800 steps reach many high-quality samples; an
  // unconditional G would put about 1/8 of them at the mode it was asked for.
  std::string text = conditional_ring(800);
  text.replace(text.find("width = 32\ndepth = 2"), 20, "width = 64\ndepth = 2");
  text.replace(text.find("[metrics.modes]"), 15, "[metrics.modes]\nthreshold = 20.0");
  const Recorder rec = train(text);
  const double hit = rec.points.at({"modes.class_hit", 800}), quality = rec.points.at({"modes.high_quality", 800});
  EXPECT_LT(rec.points.at({"modes.class_hit", 0}), 15.0);  // an untrained G does not draw by label
  EXPECT_GT(quality, 50.0);
  EXPECT_GT(hit, 0.9 * quality) << "class_hit " << hit << " of high_quality " << quality;
}

TEST(ConditionalTraining, RunsAreReproducibleAndDifferFromUnconditionalOnes) {
  auto run = [](const std::string& text) { return train(text).points; };
  const auto a = run(conditional_ring(20)), b = run(conditional_ring(20));
  EXPECT_EQ(a, b);
  const auto plain = run(test::tiny_experiment("plugin = \"nonsaturating\"", 20));
  EXPECT_NE(a.at({"loss.d", 20}), plain.at({"loss.d", 20}));
  EXPECT_EQ(plain.count({"modes.class_hit", 20}), 0u) << "an unconditional trial records no class keys";
}

// PNG width and height from the IHDR chunk.
std::pair<uint32_t, uint32_t> png_size(const std::string& png) {
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(png.at(at + i));
    return v;
  };
  return {be32(16), be32(20)};
}

TEST(ConditionalTraining, AConditionalDcganTrainsAndItsGridHasOneRowPerClass) {
  std::string text = test::tiny_dcgan_experiment("spectral_norm = true", "conditional = true\nsample_grid = 4");
  text.replace(text.find("classes = [1, 7]\n"), 17, "");
  const Experiment exp = parse_experiment(text, "c.toml", test::builtin_registry());
  Recorder rec;
  Trainer trainer(exp.trials[0].config, rec);
  const TrialResult r = trainer.run();
  ASSERT_EQ(r.outcome, TrialOutcome::completed) << r.message;
  ASSERT_TRUE(rec.pictures.count(4));
  // 10 rows of 4 images, 28 px × zoom 3, 2-px gutters.
  EXPECT_EQ(png_size(rec.pictures.at(4)), std::make_pair(4u * 84 + 5 * 2, 10u * 84 + 11 * 2));
}

}  // namespace
}  // namespace gantry
