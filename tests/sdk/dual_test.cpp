#include <gantry/dual.hpp>
#include <gantry/loss.hpp>

#include <cmath>
#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(Dual, DerivativesOfElementaryFunctions) {
  const Dual x{0.7, 1.0};
  EXPECT_NEAR((x * x).d, 1.4, 1e-15);
  EXPECT_NEAR(exp(x).d, std::exp(0.7), 1e-15);
  EXPECT_NEAR(log(x).d, 1 / 0.7, 1e-15);
  EXPECT_NEAR((1.0 / x).d, -1 / 0.49, 1e-14);
  EXPECT_NEAR(sigmoid(x).d, sigmoid(0.7) * (1 - sigmoid(0.7)), 1e-15);
  EXPECT_NEAR(softplus(x).d, sigmoid(0.7), 1e-15);
}

TEST(Dual, SoftplusIsStableForLargeLogits) {
  EXPECT_EQ(softplus(1000.0), 1000.0);
  EXPECT_EQ(softplus(-1000.0), 0.0);
  EXPECT_NEAR(softplus(Dual{-800.0, 1.0}).d, 0.0, 1e-300);
  EXPECT_EQ(softplus(Dual{800.0, 1.0}).d, 1.0);
  EXPECT_TRUE(std::isfinite(softplus(Dual{-1e6, 1.0}).v));
}

struct Square {
  template <class T> T d_real(T r) const { return square(r - 1.0); }
  template <class T> T d_fake(T f) const { return square(f); }
  template <class T> T g_fake(T f) const { return square(f - 1.0); }
};

TEST(FormulaLoss, TakesBatchMeansAndExactDerivatives) {
  FormulaLoss<Square> loss;
  const float real[] = {1.0f, 3.0f}, fake[] = {2.0f, -2.0f};
  float gr[2], gf[2];
  EXPECT_DOUBLE_EQ(loss.discriminator_loss(real, fake, gr, gf), (0.0 + 4.0) / 2 + (4.0 + 4.0) / 2);
  EXPECT_FLOAT_EQ(gr[0], 0.0f);
  EXPECT_FLOAT_EQ(gr[1], 2.0f);  // d/dr (r-1)^2 / 2 at 3
  EXPECT_FLOAT_EQ(gf[1], -2.0f);
  EXPECT_DOUBLE_EQ(loss.generator_loss({}, fake, gf), (1.0 + 9.0) / 2);
  EXPECT_FLOAT_EQ(gf[1], -3.0f);
  EXPECT_FALSE(loss.uses_real_logits_in_generator_step());
}

struct Coupled {
  template <class T> T d_real(T r, T mean_fake) const { return square(r - mean_fake); }
  template <class T> T d_fake(T f, T mean_real) const { return square(f + mean_real); }
  template <class T> T g_fake(T f, T mean_real) const { return square(f - mean_real); }
  template <class T> T g_real(T r, T mean_fake) const { return r * mean_fake; }
};

TEST(RelativisticFormulaLoss, AddsTheCouplingThroughTheOtherSidesMean) {
  // real {1, 3}, fake {2, −2}: mean real 2, mean fake 0.
  RelativisticFormulaLoss<Coupled> loss;
  const float real[] = {1.0f, 3.0f}, fake[] = {2.0f, -2.0f};
  float gr[2], gf[2];
  EXPECT_DOUBLE_EQ(loss.discriminator_loss(real, fake, gr, gf), (1.0 + 9.0) / 2 + (16.0 + 0.0) / 2);
  // dL/dr_i = (2(r_i − 0) + mean_j 2(f_j + 2)) / 2, the second part through mean real.
  EXPECT_FLOAT_EQ(gr[0], (2.0f + 4.0f) / 2);
  EXPECT_FLOAT_EQ(gr[1], (6.0f + 4.0f) / 2);
  // dL/df_j = (2(f_j + 2) + mean_i −2(r_i − 0)) / 2, the second part through mean fake.
  EXPECT_FLOAT_EQ(gf[0], (8.0f - 4.0f) / 2);
  EXPECT_FLOAT_EQ(gf[1], (0.0f - 4.0f) / 2);
  // G: mean_j (f_j − 2)² + mean_i r_i · mean fake; only the fake logits get a gradient, and the
  // real term reaches them through mean fake: dL/df_j = (2(f_j − 2) + mean_i r_i) / 2.
  EXPECT_DOUBLE_EQ(loss.generator_loss(real, fake, gf), (0.0 + 16.0) / 2 + 0.0);
  EXPECT_FLOAT_EQ(gf[0], (0.0f + 2.0f) / 2);
  EXPECT_FLOAT_EQ(gf[1], (-8.0f + 2.0f) / 2);
  EXPECT_TRUE(loss.uses_real_logits_in_generator_step());
}

}  // namespace
}  // namespace gantry
