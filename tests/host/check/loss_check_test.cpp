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

}  // namespace
}  // namespace gantry
