// [optimizer] and its per-network sub-tables (two time-scale updates), and lr_decay.
#include "config/experiment.hpp"

#include "support/experiments.hpp"
#include "support/plugins.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <gtest/gtest.h>

namespace gantry {
namespace {

Experiment parse(const std::string& extra) {
  return parse_experiment(std::string(test::minimal_sections) + extra, "x.toml", test::builtin_registry());
}

std::string error_of(const std::string& extra) {
  try {
    parse(extra);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<std::string> optimizer_leaves(const TrialConfig& trial) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : config_leaves(trial))
    if (key.starts_with("optimizer.")) keys.push_back(key + "=" + to_string(value));
  return keys;
}

TEST(OptimizerConfig, WithoutSubTablesBothNetworksUseOptimizer) {
  const TrialConfig t = parse("[optimizer]\nlr = 1e-3\nbeta1 = 0.0\n").trials.at(0).config;
  for (const NetworkOptimizer* n : {&t.generator_optimizer, &t.discriminator_optimizer}) {
    EXPECT_FALSE(n->overridden);
    EXPECT_DOUBLE_EQ(n->params.real("lr"), 1e-3);
    EXPECT_DOUBLE_EQ(n->params.real("beta1"), 0.0);
    EXPECT_DOUBLE_EQ(n->params.real("beta2"), 0.999);
    EXPECT_FALSE(n->params.has("lr_decay"));
  }
  EXPECT_EQ(t.optimizer.string("lr_decay"), "none");
  EXPECT_EQ(optimizer_leaves(t), (std::vector<std::string>{"optimizer.beta1=0.0", "optimizer.beta2=0.999",
                                                           "optimizer.eps=1e-08", "optimizer.lr=0.001",
                                                           "optimizer.lr_decay=none"}));
}

TEST(OptimizerConfig, SubTablesOverridePerNetworkAndAreLeaves) {
  const TrialConfig t = parse(R"([optimizer]
lr = 1e-4
beta1 = 0.0
beta2 = 0.9
lr_decay = "linear"
[optimizer.discriminator]
lr = 4e-4
)").trials.at(0).config;
  EXPECT_FALSE(t.generator_optimizer.overridden);
  EXPECT_DOUBLE_EQ(t.generator_optimizer.params.real("lr"), 1e-4);
  EXPECT_TRUE(t.discriminator_optimizer.overridden);
  EXPECT_DOUBLE_EQ(t.discriminator_optimizer.params.real("lr"), 4e-4);
  EXPECT_DOUBLE_EQ(t.discriminator_optimizer.params.real("beta2"), 0.9);  // inherited
  EXPECT_EQ(optimizer_leaves(t),
            (std::vector<std::string>{"optimizer.beta1=0.0", "optimizer.beta2=0.9", "optimizer.eps=1e-08",
                                      "optimizer.lr=0.0001", "optimizer.lr_decay=linear",
                                      "optimizer.discriminator.beta1=0.0", "optimizer.discriminator.beta2=0.9",
                                      "optimizer.discriminator.eps=1e-08", "optimizer.discriminator.lr=0.0004"}));
}

TEST(OptimizerConfig, NetworkSettingsAreSweepable) {
  const Experiment e = parse(R"([optimizer.generator]
beta1 = 0.0
[sweep]
"optimizer.discriminator.lr" = [1e-4, 4e-4]
"optimizer.generator.lr" = [5e-5]
)");
  ASSERT_EQ(e.trials.size(), 2u);
  EXPECT_EQ(e.sweep_columns, (std::vector<std::string>{"optimizer.discriminator.lr", "optimizer.generator.lr"}));
  EXPECT_DOUBLE_EQ(e.trials[0].config.discriminator_optimizer.params.real("lr"), 1e-4);
  EXPECT_DOUBLE_EQ(e.trials[1].config.discriminator_optimizer.params.real("lr"), 4e-4);
  EXPECT_DOUBLE_EQ(e.trials[1].config.generator_optimizer.params.real("lr"), 5e-5);
  EXPECT_DOUBLE_EQ(e.trials[1].config.generator_optimizer.params.real("beta1"), 0.0);
  EXPECT_DOUBLE_EQ(e.trials[1].config.optimizer.real("lr"), 2e-4);
  EXPECT_NE(e.trials[0].identity, e.trials[1].identity);
}

TEST(OptimizerConfig, MistakesAreLocated) {
  EXPECT_EQ(error_of("[optimizer.generator]\nlr_decay = \"linear\"\n"),
            "x.toml:11:1: [optimizer.generator] has no key 'lr_decay' (accepts: lr, beta1, beta2, eps); did you mean "
            "'lr'?");
  EXPECT_EQ(error_of("[optimizer.discriminator]\nbeta1 = 1.5\n"),
            "x.toml:11:9: optimizer.discriminator.beta1 of [optimizer.discriminator]: 1.5 is out of range (expected "
            "range [0, 0.99999]) — Adam first-moment decay, below 1 (at 1 the bias correction divides by zero)");
  EXPECT_EQ(error_of("[optimizer.critic]\nlr = 1\n"),
            "x.toml:10:12: [optimizer] has no sub-table 'critic' (available: [optimizer.generator], "
            "[optimizer.discriminator])");
  EXPECT_EQ(error_of("[optimizer]\ngenerator = 1e-3\n"),
            "x.toml:11:1: optimizer.generator must be a table ([optimizer.generator]) of lr, beta1, beta2, eps");
  EXPECT_EQ(error_of("[optimizer]\nlr_decay = \"cosine\"\n"),
            "x.toml:11:12: optimizer.lr_decay of [optimizer]: 'cosine' is not allowed (expected one of: none, "
            "linear) — learning-rate "
            "schedule of both networks: none, or linear (step s of S trains at lr·(S − s + 1)/S, reaching 0 as "
            "training ends)");
}

}  // namespace
}  // namespace gantry
