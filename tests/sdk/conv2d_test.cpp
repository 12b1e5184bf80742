#include "support/grad_check.hpp"
#include "support/json.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::as_doubles;
using test::max_rel_error;
using test::tensor_of;

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

// y[n, o, i, j] = b[o] + Σ x[n, c, stride·i + a − pad, stride·j + b − pad] · W[o, c, a, b], in double.
double naive_conv(const Tensor& x, Conv2d& conv, int64_t n, int64_t o, int64_t i, int64_t j, int64_t stride,
                  int64_t pad) {
  const int64_t c_in = x.dim(1), h = x.dim(2), w = x.dim(3), k = conv.weight().value.dim(2);
  double s = conv.bias().value[o];
  for (int64_t c = 0; c < c_in; ++c)
    for (int64_t a = 0; a < k; ++a)
      for (int64_t b = 0; b < k; ++b) {
        const int64_t ii = stride * i + a - pad, jj = stride * j + b - pad;
        if (ii < 0 || ii >= h || jj < 0 || jj >= w) continue;
        s += static_cast<double>(x[((n * c_in + c) * h + ii) * w + jj]) * conv.weight().value[((o * c_in + c) * k + a) * k + b];
      }
  return s;
}

void expect_matches_naive(Conv2d& conv, const Tensor& x, int64_t stride, int64_t pad, double tol) {
  const Tensor& y = conv.forward(x);
  for (int64_t n = 0; n < y.dim(0); ++n)
    for (int64_t o = 0; o < y.dim(1); ++o)
      for (int64_t i = 0; i < y.dim(2); ++i)
        for (int64_t j = 0; j < y.dim(3); ++j)
          EXPECT_NEAR(y[((n * y.dim(1) + o) * y.dim(2) + i) * y.dim(3) + j], naive_conv(x, conv, n, o, i, j, stride, pad), tol);
}

TEST(Conv2d, MatchesNaiveLoop) {
  Rng rng(2);
  Conv2d conv(2, 3, 3, 1, 1, rng);
  Tensor x({1, 2, 5, 4});
  rng.fill_normal(x.values());
  EXPECT_EQ(conv.forward(x).shape(), (std::vector<int64_t>{1, 3, 5, 4}));
  expect_matches_naive(conv, x, 1, 1, 1e-5);
}

struct ConvShape {
  int64_t n, c, h, w, oc, k, stride, pad;
};

// A layer of type L (Conv2d or ConvTranspose2d) of shape s, initialised from init_seed, against
// finite differences on a random input.
template <class L>
void check_conv_gradients(const ConvShape& s, uint64_t init_seed, uint64_t check_seed) {
  Rng rng(init_seed);
  L layer(s.c, s.oc, s.k, s.stride, s.pad, rng);
  Tensor x({s.n, s.c, s.h, s.w});
  rng.fill_normal(x.values());
  test::check_layer_gradients(layer, x, check_seed);
}

class Conv2dGradient : public ::testing::TestWithParam<ConvShape> {};

TEST_P(Conv2dGradient, MatchesFiniteDifferences) { check_conv_gradients<Conv2d>(GetParam(), 3, 4); }

INSTANTIATE_TEST_SUITE_P(Shapes, Conv2dGradient,
                         ::testing::Values(ConvShape{1, 1, 3, 3, 1, 3, 1, 0}, ConvShape{2, 3, 8, 8, 4, 4, 2, 1},
                                           ConvShape{1, 2, 7, 5, 3, 3, 1, 1}, ConvShape{3, 1, 6, 6, 2, 2, 2, 0},
                                           // 16 channels or more: blocked layouts inside, reorders at the boundary
                                           ConvShape{2, 16, 4, 4, 16, 4, 2, 1}));

TEST(Conv2d, BlockedLayoutsGiveThePlainResult) {
  // 32 → 16 channels runs on oneDNN's blocked kernels, with reorders at the boundary.
  Rng rng(7);
  Conv2d conv(32, 16, 3, 2, 1, rng);
  Tensor x({2, 32, 5, 5});
  rng.fill_normal(x.values());
  EXPECT_EQ(conv.forward(x).shape(), (std::vector<int64_t>{2, 16, 3, 3}));
  expect_matches_naive(conv, x, 2, 1, 1e-4);
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

TEST_P(ConvTranspose2dGradient, MatchesFiniteDifferences) { check_conv_gradients<ConvTranspose2d>(GetParam(), 6, 7); }

INSTANTIATE_TEST_SUITE_P(Shapes, ConvTranspose2dGradient,
                         ::testing::Values(ConvShape{1, 1, 2, 2, 1, 3, 1, 0}, ConvShape{2, 4, 4, 4, 3, 4, 2, 1},
                                           ConvShape{1, 2, 3, 5, 3, 3, 1, 1}, ConvShape{2, 3, 3, 3, 2, 4, 2, 1},
                                           ConvShape{2, 16, 2, 2, 16, 4, 2, 1}));

}  // namespace
}  // namespace gantry
