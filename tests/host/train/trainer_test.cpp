#include "train/trainer.hpp"

#include "support/experiments.hpp"
#include "support/plugins.hpp"
#include "support/recorder.hpp"

#include <gantry/data.hpp>

#include <cmath>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <map>

namespace gantry {
namespace {

using test::Recorder;

// Squared MMD with a Gaussian kernel (bandwidth 0.5): 0 when the two samples match in law.
double mmd2(const Tensor& a, const Tensor& b) {
  auto k = [](const Tensor& x, int64_t i, const Tensor& y, int64_t j) {
    const double dx = x[2 * i] - y[2 * j], dy = x[2 * i + 1] - y[2 * j + 1];
    return std::exp(-(dx * dx + dy * dy) / (2 * 0.25));
  };
  auto mean_k = [&](const Tensor& x, const Tensor& y) {
    double s = 0;
    for (int64_t i = 0; i < x.dim(0); ++i)
      for (int64_t j = 0; j < y.dim(0); ++j) s += k(x, i, y, j);
    return s / static_cast<double>(x.dim(0) * y.dim(0));
  };
  return mean_k(a, a) + mean_k(b, b) - 2 * mean_k(a, b);
}

Experiment tiny(const std::string& loss, int64_t steps, const std::string& train_extra = "") {
  return parse_experiment(test::tiny_experiment(loss, steps, train_extra), "tiny.toml", test::builtin_registry());
}

TEST(Trainer, NonSaturatingGanLearnsTheRing) {
  // 1,500 steps of the quickstart's recipe at reduced width: the distance from G's samples to
  // the ring must fall below a third of its value at initialisation.
  const Experiment exp = parse_experiment(R"([data]
plugin = "ring8"
[generator]
plugin = "mlp"
width = 128
[discriminator]
plugin = "mlp"
width = 128
[loss]
plugin = "nonsaturating"
[optimizer]
lr = 1e-3
[train]
steps = 1500
batch_size = 128
eval_every = 1500
eval_samples = 500
)", "learn.toml", test::builtin_registry());
  const TrialConfig trial = exp.trials[0].config;
  Recorder rec;
  Trainer trainer(trial, rec);
  auto data = test::make<DataSource>(PluginKind::data, "ring8");
  Tensor real({500, 2});
  Rng rng(99);
  data->sample(rng, real);
  std::map<int64_t, double> distance;
  trainer.on_evaluation([&](int64_t step, const Tensor& generated) { distance[step] = mmd2(generated, real); });
  const TrialResult result = trainer.run();
  ASSERT_EQ(result.outcome, TrialOutcome::completed);
  ASSERT_EQ(distance.size(), 2u);
  EXPECT_LT(distance[1500], distance[0] / 3) << "MMD² at 0: " << distance[0] << ", at 1500: " << distance[1500];
}

TEST(Trainer, SameSeedSameMetrics) {
  const Experiment exp = tiny("plugin = \"nonsaturating\"", 60);
  Recorder a, b;
  ASSERT_EQ(Trainer(exp.trials[0].config, a).run().outcome, TrialOutcome::completed);
  ASSERT_EQ(Trainer(exp.trials[0].config, b).run().outcome, TrialOutcome::completed);
  EXPECT_EQ(a.points, b.points);
  EXPECT_TRUE(a.points.count({"loss.d", 60}));
  EXPECT_TRUE(a.points.count({"modes.modes", 0}));
  EXPECT_TRUE(a.points.count({"disc_accuracy.accuracy", 60}));
  TrialConfig other = exp.trials[0].config;
  other.seed = 1;
  Recorder c;
  Trainer(other, c).run();
  EXPECT_NE(a.points, c.points);
}

TEST(Trainer, LogsAndEvaluatesOnSchedule) {
  const Experiment exp = tiny("plugin = \"minimax\"", 45);
  Recorder r;
  Trainer(exp.trials[0].config, r).run();
  std::vector<int64_t> loss_steps, eval_steps;
  for (const auto& [k, v] : r.points) {
    if (k.first == "loss.d") loss_steps.push_back(k.second);
    if (k.first == "modes.modes") eval_steps.push_back(k.second);
  }
  EXPECT_EQ(loss_steps, (std::vector<int64_t>{10, 20, 30, 40, 45}));
  EXPECT_EQ(eval_steps, (std::vector<int64_t>{0, 20, 40, 45}));
}

// Clipping itself is checked on the weights in tests/plugins/losses_test.cpp (Wasserstein.ClipsThe
// CriticsWeightsAfterADiscriminatorStep); here: n_critic D steps per G step.
TEST(Trainer, WassersteinHonoursNCritic) {
  const Experiment exp = tiny("plugin = \"wasserstein\"\nclip = 0.02", 5, "n_critic = 5\n");
  Recorder r;
  const TrialResult result = Trainer(exp.trials[0].config, r).run();
  EXPECT_EQ(result.outcome, TrialOutcome::completed);
  EXPECT_EQ(result.d_updates, 25);
  EXPECT_EQ(result.g_updates, 5);
}

TEST(Trainer, GradientPenaltyIsAppliedAndLogged) {
  const Experiment exp = tiny("plugin = \"wasserstein\"\nmode = \"gp\"", 20);
  Recorder r;
  const TrialResult result = Trainer(exp.trials[0].config, r).run();
  EXPECT_EQ(result.outcome, TrialOutcome::completed);
  EXPECT_EQ(result.d_updates, 100);  // wasserstein's own n_critic: 5
  ASSERT_TRUE(r.points.count({"loss.penalty", 20}));
  const double penalty = r.points[{"loss.penalty", 20}];
  EXPECT_GT(penalty, 0.0);
  EXPECT_TRUE(std::isfinite(penalty));
}

TEST(Trainer, R1PenaltyWorksWithAnyLoss) {
  const Experiment plain = tiny("plugin = \"hinge\"", 20);
  const Experiment r1 = tiny("plugin = \"hinge\"", 20, "r1_gamma = 10.0\n");
  Recorder a, b;
  Trainer(plain.trials[0].config, a).run();
  Trainer(r1.trials[0].config, b).run();
  EXPECT_FALSE(a.points.count({"loss.penalty", 20}));
  ASSERT_TRUE(b.points.count({"loss.penalty", 20}));
  const double penalty = b.points[{"loss.penalty", 20}];
  const double d_plain = a.points[{"loss.d", 20}], d_r1 = b.points[{"loss.d", 20}];
  EXPECT_GT(penalty, 0.0);
  EXPECT_NE(d_plain, d_r1);
}

// PacGAN: with pack = 3 (64 is not a multiple: the batch is 66) D gives 22 logits per side. A
// relativistic loss (real logits in the G step), a gradient penalty and R1 all run; disc_accuracy
// judges whole packed inputs of its 500 samples (498 used) and says so in the run's notes.
TEST(Trainer, APackedDiscriminatorTrainsWithEveryKindOfLossAndPenalty) {
  for (const std::string loss : {"plugin = \"ragan\"", "plugin = \"wasserstein\"\nmode = \"gp\""}) {
    SCOPED_TRACE(loss);
    std::string text = test::tiny_experiment(loss, 4, "r1_gamma = 1\n");
    text.replace(text.find("batch_size = 64"), 15, "batch_size = 66");
    text.replace(text.find("depth = 2\n[loss]"), 9, "depth = 2\npack = 3");
    const Experiment exp = parse_experiment(text, "tiny.toml", test::builtin_registry());
    Recorder r;
    const TrialResult result = Trainer(exp.trials[0].config, r).run();
    EXPECT_EQ(result.outcome, TrialOutcome::completed) << result.message;
    const double penalty = r.points[{"loss.penalty", 4}];
    EXPECT_TRUE(std::isfinite(penalty));
    EXPECT_GT(penalty, 0.0);
    EXPECT_EQ(r.notes["disc_accuracy.pack"], "3");
    EXPECT_EQ(r.notes["disc_accuracy.inputs"], "166 real and 166 fake packed inputs of 3 samples");
    const double accuracy = r.points[{"disc_accuracy.accuracy", 4}];
    EXPECT_EQ(std::round(accuracy * 332), accuracy * 332) << "a count of 332 packed answers";
  }
}

// PacGAN's 2D critic: LinearMaxout hidden layers (5 pieces) on packed inputs, with the exact
// gradient penalty (which needs every layer's dual mode, Maxout's included).
TEST(Trainer, AMaxoutCriticTrainsWithAnExactGradientPenalty) {
  std::string text = test::tiny_experiment("plugin = \"wasserstein\"\nmode = \"gp\"", 4);
  text.replace(text.find("depth = 2\n[loss]"), 9, "depth = 2\nactivation = \"maxout\"\npieces = 5\npack = 2");
  const Experiment exp = parse_experiment(text, "tiny.toml", test::builtin_registry());
  Recorder r;
  const TrialResult result = Trainer(exp.trials[0].config, r).run();
  EXPECT_EQ(result.outcome, TrialOutcome::completed) << result.message;
  const double penalty = r.points[{"loss.penalty", 4}], d_loss = r.points[{"loss.d", 4}];
  EXPECT_GT(penalty, 0.0);
  EXPECT_TRUE(std::isfinite(d_loss));
}

TEST(Trainer, NonFiniteLossEndsTheTrialAsDiverged) {
  Registry registry;
  registry.discover({GANTRY_TEST_PLUGIN_DIR, std::string(GANTRY_TEST_FIXTURE_DIR) + "/extra"});
  const Experiment exp = parse_experiment(test::tiny_experiment("plugin = \"faulty\"\nmode = \"nan\"\nat_step = 7", 30),
                                          "nan.toml", registry);
  Recorder r;
  const TrialResult result = Trainer(exp.trials[0].config, r).run();
  EXPECT_EQ(result.outcome, TrialOutcome::diverged);
  EXPECT_EQ(result.step, 7);
  EXPECT_EQ(result.message, "non-finite generator loss at step 7");
}

TEST(Trainer, TheGStepEvaluatesDOnARealBatchOnlyForLossesThatAskForIt) {
  // real_probe's G loss is the number of real logits it was given; otherwise non-saturating.
  Registry registry;
  registry.discover({GANTRY_TEST_PLUGIN_DIR, std::string(GANTRY_TEST_FIXTURE_DIR) + "/relativistic"});
  std::map<bool, Recorder> runs;
  for (const bool reads_real : {true, false}) {
    const Experiment exp = parse_experiment(
        test::tiny_experiment(fmt::format("plugin = \"real_probe\"\nreads_real = {}", reads_real), 20), "probe.toml",
        registry);
    ASSERT_EQ(Trainer(exp.trials[0].config, runs[reads_real]).run().outcome, TrialOutcome::completed);
    EXPECT_EQ(runs[reads_real].points.at({"loss.g", 20}), reads_real ? 64.0 : 0.0);
  }
  // The real batch has its own random stream and D only runs forward on it (an MLP D keeps no
  // batch statistics), so D's training is exactly the same with it as without it.
  const Experiment ns = tiny("plugin = \"nonsaturating\"", 20);
  Recorder plain;
  Trainer(ns.trials[0].config, plain).run();
  for (const auto& [key, value] : plain.points)
    if (key.first != "loss.g") {
      EXPECT_EQ(runs[true].points.at(key), value) << key.first << " at " << key.second;
      EXPECT_EQ(runs[false].points.at(key), value) << key.first << " at " << key.second;
    }
}

TEST(Trainer, RelativisticLossesTrainReproducibly) {
  for (const char* loss : {"rsgan", "ragan", "ralsgan", "rahinge"}) {
    const Experiment exp = tiny(fmt::format("plugin = \"{}\"", loss), 20);
    Recorder a, b;
    const TrialResult result = Trainer(exp.trials[0].config, a).run();
    ASSERT_EQ(result.outcome, TrialOutcome::completed) << loss << ": " << result.message;
    EXPECT_EQ(result.d_updates, 20) << loss;
    EXPECT_EQ(result.g_updates, 20) << loss;
    EXPECT_TRUE(std::isfinite(a.points.at({"loss.g", 20}))) << loss;
    Trainer(exp.trials[0].config, b).run();
    EXPECT_EQ(a.points, b.points) << loss;
  }
}

TEST(Trainer, StopFlagInterrupts) {
  const Experiment exp = tiny("plugin = \"nonsaturating\"", 30);
  std::atomic<int> stop{1};
  Recorder r;
  const TrialResult result = Trainer(exp.trials[0].config, r, &stop).run();
  EXPECT_EQ(result.outcome, TrialOutcome::interrupted);
  EXPECT_EQ(result.step, 0);
}

// Stops its trainer from the inside once a given step is logged, as a Ctrl-C would.
struct StopAt final : EventSink {
  std::atomic<int>& stop;
  int64_t at;
  StopAt(std::atomic<int>& s, int64_t a) : stop(s), at(a) {}
  void metric(int64_t, std::string_view, double) override {}
  void progress(int64_t step, int64_t, double, double) override {
    if (step >= at) stop = 1;
  }
};

TEST(Trainer, StopsMidwayAtTheNextStep) {
  const Experiment exp = tiny("plugin = \"nonsaturating\"", 100);
  for (int64_t at : {10, 20, 30}) {  // progress is reported every 10 steps; 20 is also an evaluation
    std::atomic<int> stop{0};
    StopAt sink(stop, at);
    const TrialResult result = Trainer(exp.trials[0].config, sink, &stop).run();
    EXPECT_EQ(result.outcome, TrialOutcome::interrupted);
    EXPECT_EQ(result.step, at);
    EXPECT_EQ(result.g_updates, at);
  }
}

}  // namespace
}  // namespace gantry
