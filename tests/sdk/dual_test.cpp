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
  EXPECT_DOUBLE_EQ(loss.generator_loss(fake, gf), (1.0 + 9.0) / 2);
  EXPECT_FLOAT_EQ(gf[1], -3.0f);
}

}  // namespace
}  // namespace gantry
