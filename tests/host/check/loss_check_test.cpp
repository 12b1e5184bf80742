#include "check/loss_check.hpp"

#include "support/plugins.hpp"

#include <gtest/gtest.h>
#include <limits>

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
    EXPECT_TRUE(report.failed.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(All, EveryBuiltinLoss,
                         ::testing::ValuesIn(test::builtin_registry().names(PluginKind::loss)));

// A fixture loss at its defaults; the library stays loaded for the test's lifetime.
struct Fixture {
  std::unique_ptr<PluginLibrary> lib;
  std::unique_ptr<Loss> loss;
  explicit Fixture(const std::string& file)
      : lib(load_plugin_library(std::string(GANTRY_TEST_FIXTURE_DIR) + "/" + file)),
        loss(instantiate<Loss>(PluginChoice{"loss", lib.get(), Params::defaults(lib->descriptor->params)},
                               BuildContext{{1}, 0})) {}
};

TEST(LossCheck, CatchesAWrongGradientAndNamesTheLogit) {
  Fixture f("wrong/fixture_wrong_gradient_loss.so");
  const LossCheckReport report = check_loss(*f.loss);
  EXPECT_FALSE(report.passed);
  EXPECT_GT(report.worst_d_error, 0.01);
  EXPECT_LT(report.worst_g_error, 1e-3);
  EXPECT_EQ(report.lines[0], "FAIL gradient of D's loss, batch 1: worst relative error 1.78e+00 at fake logit 0 of 1 "
                             "(2.103): analytic -0.8912, finite differences 0.8912, the opposite sign");
  EXPECT_EQ(report.failed, std::vector<std::string>{"gradient (D)"});
}

TEST(LossCheck, NamesAMissingCouplingTermOfARelativisticLoss) {
  // RaGAN by hand with each logit's derivative but not the part through the other side's mean.
  Fixture f("wrong/fixture_uncoupled_ragan_loss.so");
  const LossCheckReport report = check_loss(*f.loss);
  EXPECT_FALSE(report.passed);
  EXPECT_GT(report.worst_d_error, 1e-3);
  EXPECT_GT(report.worst_g_error, 1e-3);
  // lines: D and G for batches 1, 7 and 64; then finiteness at three sizes and the two signs, which hold.
  ASSERT_EQ(report.lines.size(), 11u);
  for (size_t i : {2, 3, 4, 5}) {
    EXPECT_EQ(report.lines[i].rfind("FAIL ", 0), 0u) << report.lines[i];
    EXPECT_NE(report.lines[i].find("the coupling of a relativistic loss"), std::string::npos) << report.lines[i];
  }
  EXPECT_NE(report.lines[2].find("every real logit's derivative is off by"), std::string::npos) << report.lines[2];
  EXPECT_NE(report.lines[2].find("every fake logit's derivative is off by"), std::string::npos) << report.lines[2];
  EXPECT_NE(report.lines[3].find("every fake logit's derivative is off by"), std::string::npos) << report.lines[3];
  for (size_t i = 6; i < 11; ++i) EXPECT_EQ(report.lines[i].rfind("PASS ", 0), 0u) << report.lines[i];
  EXPECT_EQ(report.failed, (std::vector<std::string>{"gradient (D, missing coupling term)",
                                                     "gradient (G, missing coupling term)"}));
}

TEST(LossCheck, NoCouplingHintForAnErrorThatDiffersFromLogitToLogit) {
  Fixture f("wrong/fixture_wrong_gradient_loss.so");
  for (const auto& line : check_loss(*f.loss).lines) EXPECT_EQ(line.find("coupling"), std::string::npos) << line;
}

TEST(LossCheck, CatchesAReversedSignConventionWithExactGradients) {
  Fixture f("check/fixture_wrong_sign_loss.so");
  const LossCheckReport report = check_loss(*f.loss);
  EXPECT_LT(std::max(report.worst_d_error, report.worst_g_error), 1e-3);
  EXPECT_EQ(report.failed, (std::vector<std::string>{"sign (D)", "sign (G)"}));
  EXPECT_EQ(report.lines[9], "FAIL sign of D's loss: does not fall when real logits rise and fake logits fall "
                             "(1.386 -> 1.948); gantry's D gives real samples high logits and fake ones low logits");
}

TEST(LossCheck, NamesTheLossTheLogitAndTheNonFiniteValueOfAnOverflow) {
  // log(1 + exp(x)): exact gradients and finite up to |logit| 100, +inf and NaN at 1000.
  Fixture f("check/fixture_overflow_loss.so");
  const LossCheckReport report = check_loss(*f.loss);
  EXPECT_EQ(report.failed, std::vector<std::string>{"finiteness at |logit| 1000"});
  EXPECT_EQ(report.lines[7], "PASS finiteness at |logit| 100: losses and gradients finite");
  EXPECT_EQ(report.lines[8],
            "FAIL finiteness at |logit| 1000: D's loss at real logit -1000, fake logit 0: value +inf, gradient NaN on "
            "the real logit (in a formula: d_real(-1000) + d_fake(0)); G's loss at fake logit -1000: value +inf, "
            "gradient NaN on the fake logit (in a formula: g_fake(-1000)); and at 4 more pair(s) of logits");
}

// sqrt of a logit: NaN (value and derivative) for every negative one.
struct SqrtOfLogit {
  template <class T> T d_real(T r) const { return sqrt(r); }
  template <class T> T d_fake(T f) const { return softplus(f); }
  template <class T> T g_fake(T f) const { return softplus(-f); }
};

TEST(LossCheck, ANaNLossFailsTheGradientAndFinitenessAndSaysNaN) {
  FormulaLoss<SqrtOfLogit> loss;
  const LossCheckReport report = check_loss(loss);
  // Batch 1's real logit is positive; batches 7 and 64 hold negative ones.
  EXPECT_EQ(report.lines[0].rfind("PASS gradient of D's loss, batch 1", 0), 0u) << report.lines[0];
  EXPECT_EQ(report.lines[2], "FAIL gradient of D's loss, batch 7: the loss itself is NaN at these logits (see finiteness)");
  EXPECT_EQ(report.lines[6], "FAIL finiteness at |logit| 30: D's loss at real logit -30, fake logit 0: value NaN, gradient "
                             "NaN on the real logit (in a formula: d_real(-30) + d_fake(0)); and at 4 more pair(s) of logits");
  EXPECT_EQ(report.failed, (std::vector<std::string>{"gradient (D)", "finiteness at |logit| 30", "finiteness at |logit| 100",
                                                     "finiteness at |logit| 1000", "sign (D)"}));
}

// The derivative NaN where the value is fine: the miss is not finite, so it fails outright rather
// than vanishing in the rounding-noise allowance.
class NanGradient final : public Loss {
 public:
  double discriminator_loss(std::span<const float> r, std::span<const float> f, std::span<float> gr,
                            std::span<float> gf) override {
    std::fill(gr.begin(), gr.end(), std::numeric_limits<float>::quiet_NaN());
    std::fill(gf.begin(), gf.end(), 0.0f);
    double sum = 0;
    for (float x : r) sum -= x;
    for (float x : f) sum += x;
    return sum / static_cast<double>(r.size());
  }
  double generator_loss(std::span<const float>, std::span<const float> f, std::span<float> gf) override {
    double sum = 0;
    for (size_t i = 0; i < f.size(); ++i) sum -= f[i], gf[i] = -1.0f / static_cast<float>(f.size());
    return sum / static_cast<double>(f.size());
  }
};

TEST(LossCheck, ANaNDerivativeFailsTheGradientAndSaysNaN) {
  NanGradient loss;
  const LossCheckReport report = check_loss(loss);
  EXPECT_TRUE(std::isinf(report.worst_d_error));
  EXPECT_EQ(report.lines[0], "FAIL gradient of D's loss, batch 1: worst relative error inf at real logit 0 of 1 (1.464): "
                             "analytic NaN, finite differences -1");
}

}  // namespace
}  // namespace gantry
