#include "check/loss_check.hpp"

#include "support/plugins.hpp"

#include <gtest/gtest.h>

namespace gantry {
namespace {

class EveryBuiltinLoss : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryBuiltinLoss, PassesGantryCheck) {
  for (const auto& mode : GetParam() == "wasserstein" ? std::vector<std::string>{"clip", "gp"} : std::vector<std::string>{""}) {
    std::vector<std::pair<std::string, ParamValue>> overrides;
    if (!mode.empty()) overrides.emplace_back("mode", mode);
    auto loss = test::make<Loss>(PluginKind::loss, GetParam(), overrides);
    const LossCheckReport report = check_loss(*loss);
    EXPECT_TRUE(report.passed) << [&] {
      std::string s;
      for (const auto& l : report.lines) s += l + "\n";
      return s;
    }();
    EXPECT_LT(report.worst_d_error, 1e-3);
  }
}

INSTANTIATE_TEST_SUITE_P(All, EveryBuiltinLoss,
                         ::testing::ValuesIn(test::builtin_registry().names(PluginKind::loss)));

TEST(LossCheck, CatchesAWrongGradient) {
  auto lib = load_plugin_library(std::string(GANTRY_TEST_FIXTURE_DIR) + "/wrong/fixture_wrong_gradient_loss.so");
  const PluginChoice choice{"loss", lib.get(), Params::defaults(lib->descriptor->params)};
  auto loss = instantiate<Loss>(choice, BuildContext{{1}, 0});
  const LossCheckReport report = check_loss(*loss);
  EXPECT_FALSE(report.passed);
  EXPECT_GT(report.worst_d_error, 0.01);
  EXPECT_LT(report.worst_g_error, 1e-3);
  EXPECT_EQ(report.lines[0].rfind("FAIL D gradient, batch 1", 0), 0u) << report.lines[0];
}

TEST(LossCheck, NamesAMissingCouplingTermOfARelativisticLoss) {
  // RaGAN by hand with each logit's derivative but not the part through the other side's mean.
  auto lib = load_plugin_library(std::string(GANTRY_TEST_FIXTURE_DIR) + "/wrong/fixture_uncoupled_ragan_loss.so");
  const PluginChoice choice{"loss", lib.get(), Params::defaults(lib->descriptor->params)};
  auto loss = instantiate<Loss>(choice, BuildContext{{1}, 0});
  const LossCheckReport report = check_loss(*loss);
  EXPECT_FALSE(report.passed);
  EXPECT_GT(report.worst_d_error, 1e-3);
  EXPECT_GT(report.worst_g_error, 1e-3);
  // lines: D and G for batches 1, 7 and 64; then finiteness and the two signs, which hold.
  ASSERT_EQ(report.lines.size(), 9u);
  for (size_t i : {2, 3, 4, 5}) {
    EXPECT_EQ(report.lines[i].rfind("FAIL ", 0), 0u) << report.lines[i];
    EXPECT_NE(report.lines[i].find("the coupling of a relativistic loss"), std::string::npos) << report.lines[i];
  }
  EXPECT_NE(report.lines[2].find("every real logit's derivative is off by"), std::string::npos) << report.lines[2];
  EXPECT_NE(report.lines[2].find("every fake logit's derivative is off by"), std::string::npos) << report.lines[2];
  EXPECT_NE(report.lines[3].find("every fake logit's derivative is off by"), std::string::npos) << report.lines[3];
  for (size_t i : {6, 7, 8}) EXPECT_EQ(report.lines[i].rfind("PASS ", 0), 0u) << report.lines[i];
}

TEST(LossCheck, NoCouplingHintForAnErrorThatDiffersFromLogitToLogit) {
  auto lib = load_plugin_library(std::string(GANTRY_TEST_FIXTURE_DIR) + "/wrong/fixture_wrong_gradient_loss.so");
  const PluginChoice choice{"loss", lib.get(), Params::defaults(lib->descriptor->params)};
  auto loss = instantiate<Loss>(choice, BuildContext{{1}, 0});
  for (const auto& line : check_loss(*loss).lines) EXPECT_EQ(line.find("coupling"), std::string::npos) << line;
}

}  // namespace
}  // namespace gantry
