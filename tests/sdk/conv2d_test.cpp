#include "support/grad_check.hpp"
#include "support/json.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::as_doubles;
using test::max_rel_error;

Tensor tensor_of(const test::Json& j) {
  const auto v = j.numbers();
  return Tensor(j.shape(), std::vector<float>(v.begin(), v.end()));
}

// Loads W and b from a reference file into the layer and checks y, dx, dW and db against it.
void expect_matches_reference(WeightedLayer& layer, const test::Json& ref) {
  layer.weight().value = tensor_of(ref["W"]);
  layer.bias().value = tensor_of(ref["b"]);
  const Tensor x = tensor_of(ref["x"]);
  const Tensor& y = layer.forward(x);
  EXPECT_EQ(y.shape(), ref["y"].shape());
  EXPECT_LT(max_rel_error(as_doubles(y), ref["y"].numbers()), 1e-5);
  layer.zero_grad();
  const Tensor dx = layer.backward(tensor_of(ref["dy"]));
  EXPECT_LT(max_rel_error(as_doubles(dx), ref["dx"].numbers()), 1e-5);
  EXPECT_LT(max_rel_error(as_doubles(layer.weight().gradient()), ref["dW"].numbers()), 1e-5);
  EXPECT_LT(max_rel_error(as_doubles(layer.bias().gradient()), ref["db"].numbers()), 1e-5);
}

TEST(Conv2d, MatchesPyTorchReference) {
  Rng rng(1);
  Conv2d conv(3, 4, 4, 2, 1, rng);
  expect_matches_reference(conv, test::reference("conv2d.json"));  // stride 2, padding 1; W [out, in, kh, kw]
}

TEST(Conv2d, MatchesNaiveLoop) {
  Rng rng(2);
  Conv2d conv(2, 3, 3, 1, 1, rng);
  Tensor x({1, 2, 5, 4});
  rng.fill_normal(x.values());
  const Tensor& y = conv.forward(x);
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{1, 3, 5, 4}));
  for (int64_t o = 0; o < 3; ++o)
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t j = 0; j < 4; ++j) {
        double s = conv.bias().value[o];
        for (int64_t c = 0; c < 2; ++c)
          for (int64_t a = 0; a < 3; ++a)
            for (int64_t b = 0; b < 3; ++b) {
              const int64_t ii = i + a - 1, jj = j + b - 1;
              if (ii < 0 || ii >= 5 || jj < 0 || jj >= 4) continue;
              s += static_cast<double>(x[(c * 5 + ii) * 4 + jj]) * conv.weight().value[((o * 2 + c) * 3 + a) * 3 + b];
            }
        EXPECT_NEAR(y[(o * 5 + i) * 4 + j], s, 1e-5);
      }
}

struct ConvShape {
  int64_t n, c, h, w, oc, k, stride, pad;
};

class Conv2dGradient : public ::testing::TestWithParam<ConvShape> {};

TEST_P(Conv2dGradient, MatchesFiniteDifferences) {
  const ConvShape s = GetParam();
  Rng rng(3);
  Conv2d conv(s.c, s.oc, s.k, s.stride, s.pad, rng);
  Tensor x({s.n, s.c, s.h, s.w});
  rng.fill_normal(x.values());
  test::check_layer_gradients(conv, x, 4);
}

INSTANTIATE_TEST_SUITE_P(Shapes, Conv2dGradient,
                         ::testing::Values(ConvShape{1, 1, 3, 3, 1, 3, 1, 0}, ConvShape{2, 3, 8, 8, 4, 4, 2, 1},
                                           ConvShape{1, 2, 7, 5, 3, 3, 1, 1}, ConvShape{3, 1, 6, 6, 2, 2, 2, 0},
                                           // 16 channels or more: blocked layouts inside, reorders at the boundary
                                           ConvShape{2, 16, 4, 4, 16, 4, 2, 1}));

TEST(Conv2d, BlockedLayoutsGiveThePlainResult) {
  // 32 → 16 channels runs on oneDNN's blocked kernels; the same product by a naive loop.
  Rng rng(7);
  Conv2d conv(32, 16, 3, 2, 1, rng);
  Tensor x({2, 32, 5, 5});
  rng.fill_normal(x.values());
  const Tensor& y = conv.forward(x);
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{2, 16, 3, 3}));
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t o = 0; o < 16; ++o)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 3; ++j) {
          double s = conv.bias().value[o];
          for (int64_t c = 0; c < 32; ++c)
            for (int64_t a = 0; a < 3; ++a)
              for (int64_t b = 0; b < 3; ++b) {
                const int64_t ii = 2 * i + a - 1, jj = 2 * j + b - 1;
                if (ii < 0 || ii >= 5 || jj < 0 || jj >= 5) continue;
                s += static_cast<double>(x[((n * 32 + c) * 5 + ii) * 5 + jj]) *
                     conv.weight().value[((o * 32 + c) * 3 + a) * 3 + b];
              }
          EXPECT_NEAR(y[((n * 16 + o) * 3 + i) * 3 + j], s, 1e-4);
        }
}

TEST(Conv2d, RefusesAWrongInputShape) {
  Rng rng(5);
  Conv2d conv(3, 2, 3, 1, 1, rng);
  Tensor x({1, 2, 5, 5});
  EXPECT_THROW(conv.forward(x), Error);
}

}  // namespace
}  // namespace gantry

namespace gantry {
namespace {

TEST(ConvTranspose2d, MatchesPyTorchReference) {
  Rng rng(1);
  ConvTranspose2d deconv(4, 3, 4, 2, 1, rng);
  expect_matches_reference(deconv, test::reference("conv_transpose2d.json"));  // W [in, out, kh, kw]
}

class ConvTranspose2dGradient : public ::testing::TestWithParam<ConvShape> {};

TEST_P(ConvTranspose2dGradient, MatchesFiniteDifferences) {
  const ConvShape s = GetParam();
  Rng rng(6);
  ConvTranspose2d deconv(s.c, s.oc, s.k, s.stride, s.pad, rng);
  Tensor x({s.n, s.c, s.h, s.w});
  rng.fill_normal(x.values());
  test::check_layer_gradients(deconv, x, 7);
}

INSTANTIATE_TEST_SUITE_P(Shapes, ConvTranspose2dGradient,
                         ::testing::Values(ConvShape{1, 1, 2, 2, 1, 3, 1, 0}, ConvShape{2, 4, 4, 4, 3, 4, 2, 1},
                                           ConvShape{1, 2, 3, 5, 3, 3, 1, 1}, ConvShape{2, 3, 3, 3, 2, 4, 2, 1},
                                           ConvShape{2, 16, 2, 2, 16, 4, 2, 1}));

}  // namespace
}  // namespace gantry
