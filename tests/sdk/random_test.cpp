#include <gantry/random.hpp>

#include <cmath>
#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(Rng, SameSeedSameNumbers) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
  }
}

TEST(Rng, NormalHasUnitMoments) {
  Rng rng(7);
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = rng.normal();
    sum += x, sq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sq / n, 1.0, 0.01);
}

TEST(Rng, BelowIsUniform) {
  Rng rng(8);
  int counts[8] = {};
  for (int i = 0; i < 80000; ++i) ++counts[rng.below(8)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
}

TEST(Rng, DerivedSeedsDependOnPurposeAndSeed) {
  EXPECT_EQ(derive_seed(1, "data"), derive_seed(1, "data"));
  EXPECT_NE(derive_seed(1, "data"), derive_seed(1, "latent"));
  EXPECT_NE(derive_seed(1, "data"), derive_seed(2, "data"));
}

}  // namespace
}  // namespace gantry
