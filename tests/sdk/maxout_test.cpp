// Maxout: the largest of each unit's pieces, its gradient to the winner; LinearMaxout (PacGAN's
// critic layer) by finite differences; shapes it cannot take are refused by name.
#include <gantry/error.hpp>
#include <gantry/layers.hpp>
#include <gantry/random.hpp>

#include "support/grad_check.hpp"

#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::as_doubles;

TEST(Maxout, TakesTheLargestOfEachUnitsPieces) {
  Maxout maxout(3);
  // Two samples of 2 units × 3 pieces, laid out as torch's x.view(N, U, k): unit-major.
  const Tensor x({2, 6}, {1, 5, 2, -1, -3, -2, 0, 0, 0, 4, 9, 9});
  const Tensor& y = maxout.forward(x);
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{5, -1, 0, 9}));
  // The gradient goes to the winner only; of equal pieces, to the first (as torch.max's index).
  const Tensor& dx = maxout.backward(Tensor({2, 2}, {10, 20, 30, 40}));
  EXPECT_EQ(as_doubles(dx), (std::vector<double>{0, 10, 0, 20, 0, 0, 30, 0, 0, 0, 40, 0}));
  EXPECT_EQ(maxout.describe(), "Maxout(3)");
}

TEST(Maxout, GradientsMatchFiniteDifferences) {
  // Pieces 0.1 apart at least: a step of 1e-2 never changes which one wins.
  Tensor x({4, 10});
  for (int64_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>((i * 7) % x.size()) - 2.0f;
  Maxout maxout(5);
  test::check_layer_gradients(maxout, x, 11);
}

TEST(Maxout, LinearMaxoutGradientsMatchFiniteDifferences) {
  Rng rng(5);
  Sequential net;
  net.emplace<Linear>(3, 4 * 5, rng);  // LinearMaxout(3 → 4 units, 5 pieces)
  net.emplace<Maxout>(5);
  net.emplace<Linear>(4, 1, rng);
  Tensor x({6, 3});
  rng.fill_normal(x.values());
  test::check_layer_gradients(net, x, 17, 1e-3f, 5e-3);
}

TEST(Maxout, RefusesFeaturesThatAreNotWholeUnits) {
  EXPECT_THROW(Maxout(0), ConfigError);
  Maxout maxout(5);
  try {
    maxout.forward(Tensor({2, 12}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Maxout(5) needs [N, units × 5] features, got [2, 12]");
  }
}

}  // namespace
}  // namespace gantry
