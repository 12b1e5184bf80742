#include "config/experiment.hpp"

#include "support/experiments.hpp"
#include "support/plugins.hpp"

#include <gantry/error.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

const char* const minimal = test::minimal_sections;

std::string error_of(const std::string& text) {
  try {
    parse_experiment(text, "x.toml", test::builtin_registry());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Experiment, DefaultsAreFilledIn) {
  const Experiment e = parse_experiment(minimal, "dir/first.toml", test::builtin_registry());
  EXPECT_EQ(e.name, "first");
  EXPECT_EQ(e.seeds, std::vector<uint64_t>{0});
  EXPECT_EQ(e.trials[0].config.data.plugin(), "ring8");
  EXPECT_DOUBLE_EQ(e.trials[0].config.data.params.real("std"), 0.01);
  EXPECT_EQ(e.trials[0].config.train.integer("steps"), 2000);
  EXPECT_DOUBLE_EQ(e.trials[0].config.optimizer.real("lr"), 2e-4);
}

TEST(Experiment, ValuesAreTypedAndIntegersWidenToReals) {
  const Experiment e = parse_experiment(std::string(minimal) + R"(
[experiment]
name = "named"
seeds = [3, 4]
[optimizer]
lr = 1
[metrics.modes]
threshold = 2.5
)", "x.toml", test::builtin_registry());
  EXPECT_EQ(e.name, "named");
  EXPECT_EQ(e.trials.size(), 2u);
  EXPECT_EQ(e.trials[1].config.seed, 4u);
  EXPECT_DOUBLE_EQ(e.trials[0].config.optimizer.real("lr"), 1.0);
  ASSERT_EQ(e.trials[0].config.metrics.size(), 1u);
  EXPECT_EQ(e.trials[0].config.metrics[0].section, "metrics.modes");
  EXPECT_DOUBLE_EQ(e.trials[0].config.metrics[0].params.real("threshold"), 2.5);
}

TEST(Experiment, LeavesAndIdentity) {
  const Experiment e = parse_experiment(minimal, "x.toml", test::builtin_registry());
  const auto leaves = config_leaves(e.trials[0].config);
  EXPECT_EQ(leaves[0].first, "data.plugin");
  EXPECT_EQ(std::get<std::string>(leaves[0].second), "ring8");
  const std::string id = trial_identity(e.trials[0].config);
  EXPECT_EQ(id.size(), 64u);
  EXPECT_EQ(id, trial_identity(parse_experiment(minimal, "other.toml", test::builtin_registry()).trials[0].config));
  TrialConfig other = e.trials[0].config;
  other.seed = 1;
  EXPECT_NE(trial_identity(other), id);
  other = e.trials[0].config;
  other.optimizer.set("lr", 1e-3);
  EXPECT_NE(trial_identity(other), id);
}

TEST(ExperimentErrors, SyntaxErrorHasLineAndColumn) {
  const std::string msg = error_of("[data]\nplugin = \"ring8\n");
  EXPECT_EQ(msg.rfind("x.toml:2:", 0), 0u) << msg;
}

TEST(ExperimentErrors, UnknownPluginListsWhatExists) {
  std::string text = minimal;
  text.replace(text.find("\"nonsaturating\""), 15, "\"wgan\"");
  EXPECT_EQ(error_of(text),
            "x.toml:9:10: unknown loss 'wgan' (available: hinge, least_squares, minimax, nonsaturating, wasserstein)");
}

TEST(ExperimentErrors, UnknownParameterNamesPluginAndWhatItAccepts) {
  const std::string msg = error_of(std::string(minimal) + "[loss]\n");  // duplicate table
  EXPECT_NE(msg.find("x.toml:10:"), std::string::npos) << msg;
  std::string text = minimal;
  text.insert(text.find("[generator]"), "radius = 2.0\nsdt = 0.1\n");
  EXPECT_EQ(error_of(text), "x.toml:5:1: data 'ring8' has no parameter 'sdt' (accepts: modes, radius, std); did you mean 'std'?");
}

TEST(ExperimentErrors, WrongTypeAndOutOfRange) {
  std::string text = std::string(minimal) + "[train]\nsteps = 1.5\nbatch_size = 0\n";
  const std::string msg = error_of(text);
  EXPECT_NE(msg.find("x.toml:11:9: train.steps of [train]: expected integer, found real '1.5'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("x.toml:12:14: train.batch_size of [train]: 0 is out of range (expected range [1, 100000000])"),
            std::string::npos) << msg;
}

TEST(ExperimentErrors, AllProblemsAreReportedAtOnce) {
  const std::string text = R"([data]
plugin = "ring9"
[generator]
plugin = "mlp"
width = "wide"
[loss]
plugin = "minimax"
[optimizer]
lr = -1.0
[sweeps]
)";
  const std::string msg = error_of(text);
  EXPECT_NE(msg.find("x.toml:2:10: unknown data 'ring9' (available: fashion_mnist, grid25, ring8, swissroll; did you mean: ring8?)"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("x.toml:5:9: generator.width of generator 'mlp': expected integer, found string 'wide'"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("x.toml:9:6: optimizer.lr of [optimizer]: -1.0 is out of range (expected >= 0)"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("x.toml:10:2: unknown section 'sweeps'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing section [discriminator] with plugin = one of: dcgan, mlp"), std::string::npos) << msg;
}

TEST(ExperimentErrors, StringChoicesAndMissingPluginKey) {
  std::string text = minimal;
  text.insert(text.find("[discriminator]"), "activation = \"gelu\"\n");
  EXPECT_NE(error_of(text).find("'gelu' is not allowed (expected one of: relu, leaky_relu, tanh, sigmoid)"),
            std::string::npos);
  EXPECT_NE(error_of("[data]\nradius = 1.0\n").find("[data] needs plugin = \"NAME\" (available: fashion_mnist, grid25, ring8, swissroll)"),
            std::string::npos);
}

TEST(ExperimentErrors, UnknownMetric) {
  EXPECT_NE(error_of(std::string(minimal) + "[metrics.mode]\n").find("unknown metric 'mode' (available: disc_accuracy, image_quality, modes; did you mean: modes?)"),
            std::string::npos);
}

}  // namespace
}  // namespace gantry
