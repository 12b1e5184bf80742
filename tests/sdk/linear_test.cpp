#include "support/grad_check.hpp"
#include "support/json.hpp"

#include <gantry/layers.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::as_doubles;
using test::max_rel_error;
using test::tensor_of;

void load(Parameter& p, const test::Json& j) {
  const auto v = j.numbers();
  ASSERT_EQ(static_cast<int64_t>(v.size()), p.value.size());
  for (size_t i = 0; i < v.size(); ++i) p.value[static_cast<int64_t>(i)] = static_cast<float>(v[i]);
}

TEST(Linear, MatchesPyTorchReference) {
  const auto ref = test::reference("linear.json");
  Rng rng(1);
  Linear layer(5, 3, rng);
  load(layer.weight(), ref["W"]);
  load(layer.bias(), ref["b"]);
  const Tensor x = tensor_of(ref["x"]);
  EXPECT_LT(max_rel_error(as_doubles(layer.forward(x)), ref["y"].numbers()), 1e-5);
  layer.zero_grad();
  const Tensor dx = layer.backward(tensor_of(ref["dy"]));
  EXPECT_LT(max_rel_error(as_doubles(dx), ref["dx"].numbers()), 1e-5);
  EXPECT_LT(max_rel_error(as_doubles(layer.weight().gradient()), ref["dW"].numbers()), 1e-5);
  EXPECT_LT(max_rel_error(as_doubles(layer.bias().gradient()), ref["db"].numbers()), 1e-5);
}

TEST(Linear, MatchesNaiveLoop) {
  Rng rng(2);
  Linear layer(7, 4, rng);
  Tensor x({3, 7});
  rng.fill_normal(x.values());
  const Tensor& y = layer.forward(x);
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t o = 0; o < 4; ++o) {
      double s = layer.bias().value[o];
      for (int64_t i = 0; i < 7; ++i) s += static_cast<double>(x[n * 7 + i]) * layer.weight().value[o * 7 + i];
      EXPECT_NEAR(y[n * 4 + o], s, 1e-5);
    }
}

struct Shape {
  int64_t batch, in, out;
};

class LinearGradient : public ::testing::TestWithParam<Shape> {};

TEST_P(LinearGradient, MatchesFiniteDifferences) {
  const Shape s = GetParam();
  Rng rng(3);
  Linear layer(s.in, s.out, rng);
  Tensor x({s.batch, s.in});
  rng.fill_normal(x.values());
  test::check_layer_gradients(layer, x, 4);
}

INSTANTIATE_TEST_SUITE_P(Shapes, LinearGradient,
                         ::testing::Values(Shape{1, 1, 1}, Shape{4, 5, 3}, Shape{16, 2, 8}, Shape{3, 33, 17}));

TEST(Linear, SkipsWeightGradientsWhenAsked) {
  Rng rng(5);
  Linear layer(4, 3, rng);
  Tensor x({2, 4}), dy({2, 3});
  rng.fill_normal(x.values());
  rng.fill_normal(dy.values());
  layer.zero_grad();
  layer.forward(x);
  const Tensor dx = layer.backward(dy, {.input_grad = true, .weight_grad = false});
  EXPECT_EQ(dx.size(), 8);
  EXPECT_TRUE(layer.weight().grad_is_zero());
  for (float g : layer.weight().gradient().values()) EXPECT_EQ(g, 0.0f);
}

TEST(Linear, AccumulatesGradientsUntilZeroed) {
  Rng rng(6);
  Linear layer(4, 3, rng);
  Tensor x({2, 4}), dy({2, 3});
  rng.fill_normal(x.values());
  rng.fill_normal(dy.values());
  layer.zero_grad();
  layer.forward(x);
  layer.backward(dy);
  const auto once = as_doubles(layer.weight().gradient());
  layer.forward(x);
  layer.backward(dy);
  const auto twice = as_doubles(layer.weight().gradient());
  for (size_t i = 0; i < once.size(); ++i) EXPECT_NEAR(twice[i], 2 * once[i], 1e-5);
  layer.zero_grad();
  layer.forward(x);
  layer.backward(dy);
  EXPECT_LT(max_rel_error(as_doubles(layer.weight().gradient()), once), 1e-6);
}

TEST(Linear, ReusesItsOutputBufferPerBatchSize) {
  Rng rng(7);
  Linear layer(3, 2, rng);
  Tensor a({4, 3}), b({8, 3});
  const float* first = layer.forward(a).data();
  layer.forward(b);
  EXPECT_EQ(layer.forward(a).data(), first);  // the plan for batch 4 was kept, not rebuilt
}

}  // namespace
}  // namespace gantry
