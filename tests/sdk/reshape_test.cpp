#include "support/grad_check.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::as_doubles;

TEST(Reshape, KeepsValuesAndPassesGradientsBack) {
  Reshape r({2, 1, 3});
  Tensor x({2, 6});
  Rng(1).fill_normal(x.values());
  const Tensor& y = r.forward(x);
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{2, 2, 1, 3}));
  EXPECT_EQ(as_doubles(y), as_doubles(x));
  test::check_layer_gradients(r, x, 3);
  Tensor bad({2, 5});
  EXPECT_THROW(r.forward(bad), Error);
  auto flat = make_flatten(6);
  EXPECT_EQ(flat->forward(y).shape(), (std::vector<int64_t>{2, 6}));
}

}  // namespace
}  // namespace gantry
