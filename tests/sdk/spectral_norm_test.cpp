// Spectral normalisation: against torch.nn.utils.spectral_norm over training steps (u and v
// moving with W; spectral_norm.json from make_spectral_norm.py), against finite differences (u and
// v held, as the gradient defines them), and against a known largest singular value.
#include "support/grad_check.hpp"
#include "support/json.hpp"

#include <gantry/layers.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::as_doubles;
using test::max_rel_error;
using test::tensor_of;

std::unique_ptr<WeightedLayer> reference_layer(const std::string& name, Rng& rng) {
  if (name == "linear") {
    auto l = std::make_unique<Linear>(5, 4, rng);
    l->enable_spectral_norm(rng);
    return l;
  }
  auto c = name == "conv" ? std::make_unique<Conv2d>(3, 4, 3, 2, 1, rng) : std::make_unique<Conv2d>(16, 16, 3, 1, 1, rng);
  c->enable_spectral_norm(rng);
  return c;
}

void load(Tensor& into, const test::Json& from) {
  const std::vector<double> values = from.numbers();
  ASSERT_EQ(static_cast<int64_t>(values.size()), into.size());
  for (int64_t i = 0; i < into.size(); ++i) into[i] = static_cast<float>(values[static_cast<size_t>(i)]);
}

class SpectralNormReference : public ::testing::TestWithParam<std::string> {};

TEST_P(SpectralNormReference, MatchesPyTorchOverTrainingSteps) {
  const auto ref = test::reference("spectral_norm.json")["cases"][GetParam()];
  Rng rng(3);
  auto layer = reference_layer(GetParam(), rng);
  load(layer->weight().value, ref["W0"]);
  load(layer->bias().value, ref["b"]);
  const std::vector<Tensor*> uv = layer->buffers();
  ASSERT_EQ(uv.size(), 2u);
  load(*uv[0], ref["u0"]);
  load(*uv[1], ref["v0"]);
  const double lr = ref["lr"].number;
  for (size_t k = 0; k < ref["steps"].array.size(); ++k) {
    SCOPED_TRACE("step " + std::to_string(k));
    const auto& step = ref["steps"][k];
    const Tensor x = tensor_of(step["x"]);
    EXPECT_LT(max_rel_error(as_doubles(layer->forward(x, Mode::train)), step["y"].numbers()), 1e-5);
    EXPECT_NEAR(layer->spectral_sigma(), step["sigma"].number, 1e-6 * step["sigma"].number);
    EXPECT_LT(max_rel_error(as_doubles(*uv[0]), step["u"].numbers()), 1e-6);
    EXPECT_LT(max_rel_error(as_doubles(*uv[1]), step["v"].numbers()), 1e-6);
    layer->zero_grad();
    EXPECT_LT(max_rel_error(as_doubles(layer->backward(tensor_of(step["dy"]))), step["dx"].numbers()), 1e-5);
    const std::vector<double> dw = step["dW"].numbers();
    EXPECT_LT(max_rel_error(as_doubles(layer->weight().gradient()), dw), 1e-5);
    EXPECT_LT(max_rel_error(as_doubles(layer->bias().gradient()), step["db"].numbers()), 1e-5);
    // The generator's update, W ← float32(W − lr·dW) in double, from its own dW: both sides
    // enter the next step with the same weights.
    Tensor& w = layer->weight().value;
    for (int64_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<double>(w[i]) - lr * dw[static_cast<size_t>(i)]);
  }
  const std::vector<double> u = as_doubles(*uv[0]), v = as_doubles(*uv[1]);
  EXPECT_LT(max_rel_error(as_doubles(layer->forward(tensor_of(ref["eval"]["x"]), Mode::eval)), ref["eval"]["y"].numbers()),
            1e-5);
  EXPECT_EQ(as_doubles(*uv[0]), u) << "eval mode takes no power iteration";
  EXPECT_EQ(as_doubles(*uv[1]), v);
}

INSTANTIATE_TEST_SUITE_P(Layers, SpectralNormReference, ::testing::Values("linear", "conv", "conv16"));

struct SnCase {
  std::string name;
  std::function<std::unique_ptr<Layer>(Rng&)> make;  ///< with spectral norm on
  std::vector<int64_t> input_shape;
};
std::ostream& operator<<(std::ostream& os, const SnCase& c) { return os << c.name; }

template <class L, class... Args>
std::function<std::unique_ptr<Layer>(Rng&)> normalised(Args... args) {
  return [=](Rng& rng) {
    auto layer = std::make_unique<L>(int64_t{args}..., rng);
    layer->enable_spectral_norm(rng);
    return std::unique_ptr<Layer>(std::move(layer));
  };
}

class SpectralNormGradient : public ::testing::TestWithParam<SnCase> {};

// The gradient holds u and v constant; evaluation mode computes with the stored ones, so finite
// differences of eval forwards differentiate exactly what backward does.
TEST_P(SpectralNormGradient, MatchesFiniteDifferences) {
  Rng rng(31);
  auto layer = GetParam().make(rng);
  Tensor x(GetParam().input_shape);
  rng.fill_normal(x.values());
  for (int i = 0; i < 3; ++i) layer->forward(x, Mode::train);  // u and v away from their random start
  test::check_layer_gradients(*layer, x, 37, 1e-2f, 2e-3, Mode::eval);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SpectralNormGradient,
    ::testing::Values(SnCase{"linear_3x4", normalised<Linear>(3, 4), {2, 3}},
                      SnCase{"linear_7x1", normalised<Linear>(7, 1), {3, 7}},
                      SnCase{"conv_2to3_k3", normalised<Conv2d>(2, 3, 3, 1, 1), {2, 2, 5, 4}},
                      SnCase{"conv_16to16_k3_blocked", normalised<Conv2d>(16, 16, 3, 2, 1), {1, 16, 4, 4}}),
    [](const ::testing::TestParamInfo<SnCase>& param_info) { return param_info.param.name; });

// diag(3, −2, 1): σ converges to 3 (the error shrinks by (2/3)² per iteration), after which the
// layer computes with W/3, whose largest singular value is 1.
TEST(SpectralNorm, ConvergesToTheLargestSingularValue) {
  Rng rng(5);
  Linear layer(3, 3, rng);
  layer.enable_spectral_norm(rng);
  layer.weight().value = Tensor({3, 3}, {3, 0, 0, 0, -2, 0, 0, 0, 1});
  layer.bias().value.fill(0.0f);
  const Tensor x({1, 3}, {1, 1, 1});
  for (int i = 0; i < 40; ++i) layer.forward(x, Mode::train);
  EXPECT_NEAR(layer.spectral_sigma(), 3.0, 1e-5);
  const Tensor& y = layer.forward(x, Mode::eval);
  EXPECT_NEAR(y[0], 1.0, 1e-5);
  EXPECT_NEAR(y[1], -2.0 / 3.0, 1e-5);
  EXPECT_NEAR(y[2], 1.0 / 3.0, 1e-5);
}

TEST(SpectralNorm, IteratesOnlyInTrainingForwards) {
  Rng rng(6);
  Linear layer(4, 3, rng);
  layer.enable_spectral_norm(rng);
  Tensor x({2, 4});
  rng.fill_normal(x.values());
  const std::vector<double> u0 = as_doubles(*layer.buffers()[0]), v0 = as_doubles(*layer.buffers()[1]);
  layer.forward(x, Mode::eval);
  layer.forward_dual(x, x, Mode::train);
  EXPECT_EQ(as_doubles(*layer.buffers()[0]), u0);
  EXPECT_EQ(as_doubles(*layer.buffers()[1]), v0);
  layer.forward(x, Mode::train);
  EXPECT_NE(as_doubles(*layer.buffers()[0]), u0);
  EXPECT_NE(as_doubles(*layer.buffers()[1]), v0);
}

// apply_spectral_norm draws u and v after the weights exist, so a network's initial weights are
// the same with and without it; u, v are the only buffers it adds, in layer order.
TEST(SpectralNorm, AppliesToEveryLinearAndConv2dOfANetwork) {
  auto build = [](bool sn) {
    Rng rng(8);
    Sequential net;
    net.emplace<Conv2d>(1, 2, 3, 1, 1, rng);
    net.emplace<Eltwise>(Activation::leaky_relu, 0.2f);
    net.emplace<ConvTranspose2d>(2, 2, 2, 2, 0, rng);
    net.add(make_flatten(2 * 6 * 6));
    net.emplace<Linear>(72, 1, rng);
    if (sn) {
      EXPECT_EQ(apply_spectral_norm(net, rng), 2u);  // not the transposed convolution
    }
    std::vector<double> all;
    for (Parameter* p : net.parameters()) all.insert(all.end(), p->value.values().begin(), p->value.values().end());
    return all;
  };
  EXPECT_EQ(build(false), build(true));
  Rng rng(8);
  Sequential net;
  net.emplace<Conv2d>(1, 2, 3, 1, 1, rng);
  net.add(make_flatten(2 * 3 * 3));
  net.emplace<Linear>(18, 1, rng);
  apply_spectral_norm(net, rng);
  const auto buffers = net.buffers();
  ASSERT_EQ(buffers.size(), 4u);
  EXPECT_EQ(buffers[0]->shape(), (std::vector<int64_t>{2}));   // Conv2d's u: output channels
  EXPECT_EQ(buffers[1]->shape(), (std::vector<int64_t>{9}));   // v: in · kh · kw
  EXPECT_EQ(buffers[2]->shape(), (std::vector<int64_t>{1}));
  EXPECT_EQ(buffers[3]->shape(), (std::vector<int64_t>{18}));
  EXPECT_EQ(net.parameters().size(), 4u);  // W and b per layer: u, v and W/σ are not trained
  EXPECT_EQ(net.describe(), "Conv2d(1, 2, k3, s1, p1, spectral_norm) - Reshape([18]) - Linear(18, 1, spectral_norm)");
}

}  // namespace
}  // namespace gantry
