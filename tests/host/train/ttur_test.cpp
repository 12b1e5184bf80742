// Two time-scale updates (per-network optimizers), the linear learning-rate decay, and spectrally
// normalised critics, trained end to end.
#include "train/trainer.hpp"

#include "support/experiments.hpp"
#include "support/plugins.hpp"
#include "support/recorder.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <map>

namespace gantry {
namespace {

using test::Recorder;

// G's evaluation samples at each evaluation, and everything the trial logged.
struct Outcome {
  std::map<int64_t, std::vector<float>> samples;
  Recorder rec;
};

Outcome train(const std::string& optimizer, const std::string& d_extra = "", const std::string& loss = "nonsaturating",
              int64_t steps = 20) {
  const std::string text = R"([data]
plugin = "ring8"
[generator]
plugin = "mlp"
width = 32
depth = 2
[discriminator]
plugin = "mlp"
width = 32
depth = 2
)" + d_extra + "\n[loss]\nplugin = \"" + loss + "\"\n" + optimizer + R"(
[train]
steps = )" + std::to_string(steps) + R"(
batch_size = 64
log_every = 5
eval_every = 10
eval_samples = 200
[metrics.modes]
)";
  const Experiment exp = parse_experiment(text, "ttur.toml", test::builtin_registry());
  Outcome out;
  Trainer trainer(exp.trials.at(0).config, out.rec);
  trainer.on_evaluation([&](int64_t step, const Tensor& g) { out.samples[step].assign(g.values().begin(), g.values().end()); });
  EXPECT_EQ(trainer.run().outcome, TrialOutcome::completed);
  return out;
}

TEST(LearningRateSchedule, LinearDecayReachesZeroAsTrainingEnds) {
  EXPECT_DOUBLE_EQ(scheduled_lr(0.1, "none", 3, 4), 0.1);
  EXPECT_DOUBLE_EQ(scheduled_lr(0.1, "linear", 1, 4), 0.1);
  EXPECT_DOUBLE_EQ(scheduled_lr(0.1, "linear", 2, 4), 0.075);
  EXPECT_DOUBLE_EQ(scheduled_lr(0.1, "linear", 4, 4), 0.025);
  EXPECT_DOUBLE_EQ(scheduled_lr(0.1, "linear", 1, 1), 0.1);
}

TEST(Ttur, GeneratorTrainsAtItsOwnRate) {
  // G at rate 0 while D trains at [optimizer]'s: G's samples never move.
  const Outcome frozen = train("[optimizer]\nlr = 1e-3\n[optimizer.generator]\nlr = 0.0\n");
  ASSERT_EQ(frozen.samples.size(), 3u);
  EXPECT_EQ(frozen.samples.at(0), frozen.samples.at(20));
  // [optimizer] at 0 and G's own rate: G moves.
  const Outcome moving = train("[optimizer]\nlr = 0.0\n[optimizer.generator]\nlr = 1e-3\n");
  EXPECT_NE(moving.samples.at(0), moving.samples.at(20));
}

TEST(Ttur, DiscriminatorTrainsAtItsOwnRate) {
  const Outcome shared = train("[optimizer]\nlr = 1e-3\n");
  // The same rate written in D's own table changes nothing, bit for bit...
  const Outcome same = train("[optimizer]\nlr = 1e-3\n[optimizer.discriminator]\nlr = 1e-3\n");
  EXPECT_EQ(shared.rec.points, same.rec.points);
  EXPECT_EQ(shared.samples, same.samples);
  // ...and a frozen D (G still at 1e-3) gives G other gradients to follow.
  const Outcome frozen_d = train("[optimizer]\nlr = 1e-3\n[optimizer.discriminator]\nlr = 0.0\n");
  EXPECT_EQ(frozen_d.samples.at(0), shared.samples.at(0));
  EXPECT_NE(frozen_d.samples.at(20), shared.samples.at(20));
}

TEST(Ttur, LinearDecayStartsAtTheFullRate) {
  // One step: its rate is the full one, so decay or not gives the same numbers.
  EXPECT_EQ(train("[optimizer]\nlr = 1e-3\nlr_decay = \"linear\"\n", "", "nonsaturating", 1).rec.points,
            train("[optimizer]\nlr = 1e-3\n", "", "nonsaturating", 1).rec.points);
  // Twenty: later steps take smaller ones.
  EXPECT_NE(train("[optimizer]\nlr = 1e-3\nlr_decay = \"linear\"\n").samples.at(20),
            train("[optimizer]\nlr = 1e-3\n").samples.at(20));
}

// SNGAN's recipe in miniature: spectrally normalised critic, hinge loss, D at four times G's rate
// with Adam(0, 0.9), decaying linearly.
TEST(SpectralNormTraining, SnCriticWithTturTrainsEndToEnd) {
  const Outcome sn = train("[optimizer]\nlr = 1e-4\nbeta1 = 0.0\nbeta2 = 0.9\nlr_decay = \"linear\"\n"
                           "[optimizer.discriminator]\nlr = 4e-4\n",
                           "spectral_norm = true", "hinge");
  for (const auto& [key, value] : sn.rec.points) EXPECT_TRUE(std::isfinite(value)) << key.first << " at " << key.second;
  EXPECT_TRUE(sn.rec.points.count({"loss.d", 20}));
  EXPECT_TRUE(sn.rec.points.count({"modes.modes", 20}));
  EXPECT_NE(sn.samples.at(0), sn.samples.at(20));
  // The same run without spectral norm starts from the same weights (u and v are drawn after
  // them) and trains differently.
  const Outcome plain = train("[optimizer]\nlr = 1e-4\nbeta1 = 0.0\nbeta2 = 0.9\nlr_decay = \"linear\"\n"
                              "[optimizer.discriminator]\nlr = 4e-4\n",
                              "", "hinge");
  EXPECT_EQ(sn.samples.at(0), plain.samples.at(0));
  EXPECT_NE(sn.samples.at(20), plain.samples.at(20));
}

// The dcgan critic with spectral norm under the R1 penalty: exact penalty gradients through σ(W)
// in the trainer (preflight's rehearsal would refuse a layer without dual mode).
TEST(SpectralNormTraining, DcganCriticWithR1TrainsEndToEnd) {
  const Experiment exp = parse_experiment(test::tiny_dcgan_experiment("spectral_norm = true", "r1_gamma = 1.0"),
                                          "dcgan.toml", test::builtin_registry());
  Recorder rec;
  ASSERT_EQ(Trainer(exp.trials.at(0).config, rec).run().outcome, TrialOutcome::completed);
  ASSERT_TRUE(rec.points.count({"loss.penalty", 4}));
  EXPECT_GT(rec.points.at({"loss.penalty", 4}), 0.0);
  EXPECT_TRUE(std::isfinite(rec.points.at({"loss.d", 4})));
}

}  // namespace
}  // namespace gantry
