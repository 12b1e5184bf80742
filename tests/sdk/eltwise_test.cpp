#include "support/grad_check.hpp"
#include "support/json.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <cmath>
#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::as_doubles;
using test::max_rel_error;

struct Case {
  const char* key;
  Activation activation;
  float slope;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.key; }

class EltwiseReference : public ::testing::TestWithParam<Case> {};

TEST_P(EltwiseReference, MatchesPyTorch) {
  const Case c = GetParam();
  const auto ref = test::reference("eltwise.json");
  const auto xs = ref["x"].numbers(), dys = ref["dy"].numbers();
  const int64_t n = static_cast<int64_t>(xs.size());
  Tensor x({1, n}), dy({1, n});
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(xs[i]), dy[i] = static_cast<float>(dys[i]);
  Eltwise layer(c.activation, c.slope);
  EXPECT_LT(max_rel_error(as_doubles(layer.forward(x)), ref[c.key]["y"].numbers()), 1e-6);
  EXPECT_LT(max_rel_error(as_doubles(layer.backward(dy)), ref[c.key]["dx"].numbers()), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(All, EltwiseReference,
                         ::testing::Values(Case{"relu", Activation::relu, 0}, Case{"leaky_relu_0.2", Activation::leaky_relu, 0.2f},
                                           Case{"tanh", Activation::tanh, 0}, Case{"sigmoid", Activation::sigmoid, 0}),
                         [](const auto& param_info) { return std::string(param_info.param.key == std::string("leaky_relu_0.2") ? "leaky_relu" : param_info.param.key); });

class EltwiseGradient : public ::testing::TestWithParam<std::tuple<Case, std::vector<int64_t>>> {};

TEST_P(EltwiseGradient, MatchesFiniteDifferences) {
  const auto& [c, shape] = GetParam();
  Eltwise layer(c.activation, c.slope);
  Tensor x(shape);
  Rng rng(11);
  // Keep inputs away from ReLU's kink so central differences do not straddle it.
  for (float& v : x.values()) {
    v = static_cast<float>(rng.normal());
    if (std::abs(v) < 0.05f) v += v < 0 ? -0.1f : 0.1f;
  }
  test::check_layer_gradients(layer, x, 12, 1e-3f, 5e-3);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, EltwiseGradient,
    ::testing::Combine(::testing::Values(Case{"relu", Activation::relu, 0}, Case{"leaky", Activation::leaky_relu, 0.2f},
                                         Case{"tanh", Activation::tanh, 0}, Case{"sigmoid", Activation::sigmoid, 0}),
                       ::testing::Values(std::vector<int64_t>{1, 1}, std::vector<int64_t>{4, 7},
                                         std::vector<int64_t>{2, 3, 4, 5})));

TEST(Eltwise, ParsesActivationNamesAndListsThemOnError) {
  EXPECT_EQ(parse_activation("leaky_relu"), Activation::leaky_relu);
  try {
    parse_activation("gelu");
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("available: leaky_relu, relu, sigmoid, tanh"), std::string::npos);
  }
}

}  // namespace
}  // namespace gantry
