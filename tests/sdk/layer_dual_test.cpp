// Every layer's dual mode against finite differences: forward_dual's tangent against central
// differences of forward() along ẋ, and backward_dual's adjoints and parameter gradients against
// central differences of L = Σ r·y + Σ s·ẏ (fixed random r, s) with respect to x, ẋ and θ. forward()
// runs in evaluation mode, which for these layers computes what forward_dual() does (spectral
// norm: no power iteration).
#include "support/grad_check.hpp"
#include "support/resnet.hpp"

#include <gantry/conditional.hpp>
#include <gantry/error.hpp>
#include <gantry/layers.hpp>
#include <gantry/penalty.hpp>

#include <functional>
#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::as_doubles;
using test::max_rel_error;
using test::numeric_gradient;

struct DualCase {
  std::string name;
  std::function<std::unique_ptr<Layer>(Rng&)> make;
  std::vector<int64_t> input_shape;
  float eps = 1e-3f;  ///< central differences' step: small enough for the ReLU family's kinks
};

std::ostream& operator<<(std::ostream& os, const DualCase& c) { return os << c.name; }

// Inputs at least 0.1 away from 0, so no central difference straddles a ReLU kink.
Tensor away_from_zero(std::vector<int64_t> shape, Rng& rng) {
  Tensor t(std::move(shape));
  rng.fill_normal(t.values());
  for (float& v : t.values()) v += v < 0 ? -0.1f : 0.1f;
  return t;
}

double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

class LayerDual : public ::testing::TestWithParam<DualCase> {};

TEST_P(LayerDual, TangentMatchesFiniteDifferencesOfForward) {
  Rng rng(11);
  auto layer = GetParam().make(rng);
  ASSERT_TRUE(layer->supports_dual());
  Tensor x = away_from_zero(GetParam().input_shape, rng), x_dot(x.shape());
  rng.fill_normal(x_dot.values());
  const DualTensors y = layer->forward_dual(x, x_dot);
  const std::vector<double> value = as_doubles(*y.value), tangent = as_doubles(*y.tangent);
  EXPECT_EQ(value, as_doubles(layer->forward(x, Mode::eval)));
  const float h = 1e-3f;
  Tensor shifted(x.shape());
  auto at = [&](float step) {
    for (int64_t i = 0; i < x.size(); ++i) shifted[i] = x[i] + step * x_dot[i];
    return as_doubles(layer->forward(shifted, Mode::eval));
  };
  const std::vector<double> plus = at(h), minus = at(-h);
  std::vector<double> numeric(plus.size());
  for (size_t i = 0; i < plus.size(); ++i) numeric[i] = (plus[i] - minus[i]) / (2.0 * h);
  EXPECT_LT(max_rel_error(tangent, numeric), 2e-3);
}

// With `primal` false, ȳ is empty (zero), as in the critic's seed.
void check_backward_dual(Layer& layer, Tensor x, Tensor x_dot, bool primal, uint64_t seed, float eps) {
  Rng rng(seed);
  const DualTensors y0 = layer.forward_dual(x, x_dot);
  Tensor r(y0.value->shape()), s(y0.tangent->shape());
  if (primal) rng.fill_normal(r.values());
  rng.fill_normal(s.values());
  const Tensor y_bar = primal ? r : Tensor();
  auto objective = [&] {
    const DualTensors y = layer.forward_dual(x, x_dot);
    return dot(*y.value, r) + dot(*y.tangent, s);
  };
  layer.zero_grad();
  layer.forward_dual(x, x_dot);
  const DualTensors adjoint = layer.backward_dual(y_bar, s);
  const Tensor x_bar = *adjoint.value, x_dot_bar = *adjoint.tangent;
  std::vector<std::vector<double>> analytic;
  for (Parameter* p : layer.parameters()) analytic.push_back(as_doubles(p->gradient()));
  const std::vector<double> x_bar_numeric = numeric_gradient(x.values(), objective, eps);
  // An empty x̄ stands for zeros: then every derivative with respect to x must vanish.
  EXPECT_LT(max_rel_error(x_bar.size() ? as_doubles(x_bar) : std::vector<double>(x_bar_numeric.size()), x_bar_numeric),
            2e-3)
      << "x̄";
  EXPECT_LT(max_rel_error(as_doubles(x_dot_bar), numeric_gradient(x_dot.values(), objective, eps)), 2e-3) << "ẋ̄";
  size_t k = 0;
  for (Parameter* p : layer.parameters())
    EXPECT_LT(max_rel_error(analytic[k++], numeric_gradient(p->value.values(), objective, eps)), 2e-3)
        << "gradient of " << p->name;
}

TEST_P(LayerDual, AdjointsMatchFiniteDifferences) {
  for (bool primal : {true, false}) {
    Rng rng(13);
    auto layer = GetParam().make(rng);
    Tensor x = away_from_zero(GetParam().input_shape, rng), x_dot(x.shape());
    rng.fill_normal(x_dot.values());
    SCOPED_TRACE(primal ? "ȳ random" : "ȳ empty");
    check_backward_dual(*layer, x, x_dot, primal, 17, GetParam().eps);
  }
}

TEST_P(LayerDual, SkipsInputAdjointsWhenAsked) {
  Rng rng(19);
  auto layer = GetParam().make(rng);
  Tensor x = away_from_zero(GetParam().input_shape, rng), x_dot(x.shape());
  rng.fill_normal(x_dot.values());
  const DualTensors y = layer->forward_dual(x, x_dot);
  Tensor s(y.tangent->shape());
  s.fill(1.0f);
  layer->zero_grad();
  const DualTensors adjoint = layer->backward_dual(Tensor(), s, {.input_grad = false, .weight_grad = true});
  EXPECT_EQ(adjoint.value->size(), 0);
  EXPECT_EQ(adjoint.tangent->size(), 0);
}

template <class L, class... Args>
std::function<std::unique_ptr<Layer>(Rng&)> maker(Args... args) {
  return [=](Rng& rng) { return std::make_unique<L>(args..., rng); };
}

std::function<std::unique_ptr<Layer>(Rng&)> activation(Activation a, float slope = 0.2f) {
  return [=](Rng&) { return make_activation(a, slope); };
}

std::unique_ptr<Layer> small_conv_critic(Rng& rng) {
  auto net = std::make_unique<Sequential>();
  net->emplace<Conv2d>(1, 3, 3, 2, 1, rng);
  net->add(make_activation(Activation::tanh));
  net->emplace<ConvTranspose2d>(3, 2, 4, 2, 1, rng);
  net->add(make_activation(Activation::leaky_relu, 0.2f));
  net->add(make_flatten(2 * 6 * 6));
  net->emplace<Linear>(72, 1, rng);
  net->add(make_activation(Activation::sigmoid));
  return net;
}

// PacGAN's critic layer: LinearMaxout, 4 units of 3 pieces, then a Linear with curvature after
// it (tanh) so that the second-order term of the whole is not zero.
std::unique_ptr<Layer> linear_maxout(Rng& rng) {
  auto net = std::make_unique<Sequential>();
  net->emplace<Linear>(5, 12, rng);
  net->emplace<Maxout>(3);
  net->emplace<Linear>(4, 2, rng);
  net->add(make_activation(Activation::tanh));
  return net;
}

// A layer with spectral norm, after one training forward has moved u and v off their random start
// (σ = uᵀWv of random vectors can be near zero).
template <class L>
std::function<std::unique_ptr<Layer>(Rng&)> normalised(std::function<std::unique_ptr<Layer>(Rng&)> make,
                                                       std::vector<int64_t> input_shape) {
  return [=](Rng& rng) {
    auto layer = make(rng);
    dynamic_cast<L&>(*layer).enable_spectral_norm(rng);
    const Tensor x(input_shape);  // the iteration reads W only
    layer->forward(x, Mode::train);
    return layer;
  };
}

// The projection head over 3 classes for a batch of 4, optionally spectrally normalised (ψ and E)
// after one training forward, as normalised<>.
std::function<std::unique_ptr<Layer>(Rng&)> projection_head(bool sn) {
  return [=](Rng& rng) {
    auto slot = std::make_shared<LabelSlot>(3);
    const std::vector<int32_t> labels{2, 0, 1, 2};
    slot->set(labels);
    auto head = std::make_unique<ProjectionHead>(5, slot, rng);
    if (sn) {
      head->enable_spectral_norm(rng);
      head->forward(Tensor({4, 5}), Mode::train);
    }
    return head;
  };
}

// A residual block with curvature in its main branch (tanh), so x̄ is not empty, and a 1×1 shortcut.
std::unique_ptr<Layer> smooth_block(Rng& rng) {
  auto main = std::make_unique<Sequential>();
  main->emplace<Conv2d>(2, 3, 3, 1, 1, rng);
  main->add(make_activation(Activation::tanh));
  auto shortcut = std::make_unique<Sequential>();
  shortcut->emplace<Conv2d>(2, 3, 1, 1, 0, rng);
  return std::make_unique<Residual>(std::move(main), std::move(shortcut));
}

std::unique_ptr<Layer> identity_block(Rng& rng) {
  auto main = std::make_unique<Sequential>();
  main->add(make_activation(Activation::relu));
  main->emplace<Conv2d>(2, 2, 3, 1, 1, rng);
  main->add(make_activation(Activation::sigmoid));
  return std::make_unique<Residual>(std::move(main));
}

// The small ResNet critic, spectrally normalised, after one training forward (as normalised<>), with
// tanh for ReLU: a step of a weight moves every pre-activation, and with ReLU some cross the kink.
std::unique_ptr<Layer> resnet_critic(Rng& rng) {
  auto net = test::small_resnet_critic(4, true, rng, Activation::tanh);
  net->forward(Tensor({2, 1, 8, 8}), Mode::train);
  return net;
}

INSTANTIATE_TEST_SUITE_P(
    Layers, LayerDual,
    ::testing::Values(
        DualCase{"Linear", maker<Linear>(int64_t{5}, int64_t{3}), {4, 5}},
        DualCase{"Conv2d", maker<Conv2d>(int64_t{2}, int64_t{3}, int64_t{3}, int64_t{2}, int64_t{1}), {2, 2, 6, 6}},
        // 16 channels on both sides: blocked layouts behind the plan's reorders.
        DualCase{"Conv2dBlocked", maker<Conv2d>(int64_t{16}, int64_t{16}, int64_t{3}, int64_t{1}, int64_t{1}),
                 {2, 16, 4, 4}},
        DualCase{"LinearSpectralNorm", normalised<Linear>(maker<Linear>(int64_t{5}, int64_t{3}), {4, 5}), {4, 5}},
        DualCase{"Conv2dSpectralNorm",
                 normalised<Conv2d>(maker<Conv2d>(int64_t{2}, int64_t{3}, int64_t{3}, int64_t{2}, int64_t{1}),
                                    {2, 2, 6, 6}),
                 {2, 2, 6, 6}},
        // With spectral norm every weight moves every output: at a step of 1e-3 the float32 noise
        // of the differences over 2×512 outputs was 1% of the gradient (while the same layer's
        // exact penalty gradients match PyTorch to 1e-5, penalty_test.cpp). The layer is smooth,
        // so a larger step costs no accuracy.
        DualCase{"Conv2dBlockedSpectralNorm",
                 normalised<Conv2d>(maker<Conv2d>(int64_t{16}, int64_t{16}, int64_t{3}, int64_t{1}, int64_t{1}),
                                    {2, 16, 4, 4}),
                 {2, 16, 4, 4}, 1e-2f},
        DualCase{"ConvTranspose2d", maker<ConvTranspose2d>(int64_t{3}, int64_t{2}, int64_t{4}, int64_t{2}, int64_t{1}),
                 {2, 3, 3, 3}},
        DualCase{"ConvTranspose2dBlocked",
                 maker<ConvTranspose2d>(int64_t{16}, int64_t{16}, int64_t{4}, int64_t{2}, int64_t{1}), {1, 16, 2, 2}},
        DualCase{"ReLU", activation(Activation::relu), {3, 7}},
        DualCase{"LeakyReLU", activation(Activation::leaky_relu), {3, 7}},
        DualCase{"Tanh", activation(Activation::tanh), {3, 7}},
        DualCase{"Sigmoid", activation(Activation::sigmoid), {3, 2, 2, 2}},
        DualCase{"Reshape", [](Rng&) { return std::make_unique<Reshape>(std::vector<int64_t>{2, 3}); }, {2, 6}},
        DualCase{"Sequential", small_conv_critic, {2, 1, 6, 6}},
        DualCase{"Upsample2d", [](Rng&) { return std::make_unique<Upsample2d>(2); }, {2, 3, 2, 3}},
        DualCase{"AvgPool2d", [](Rng&) { return std::make_unique<AvgPool2d>(2); }, {2, 3, 4, 6}},
        DualCase{"AvgPool2dByThree", [](Rng&) { return std::make_unique<AvgPool2d>(3); }, {1, 2, 6, 3}},
        DualCase{"Upsample2dByThree", [](Rng&) { return std::make_unique<Upsample2d>(3); }, {1, 2, 2, 3}},
        DualCase{"GlobalSumPool", [](Rng&) { return std::make_unique<GlobalSumPool>(); }, {2, 3, 2, 3}},
        DualCase{"LinearMaxout", linear_maxout, {3, 5}},
        DualCase{"ProjectionHead", projection_head(false), {4, 5}},
        DualCase{"ProjectionHeadSpectralNorm", projection_head(true), {4, 5}},
        DualCase{"ResidualSmooth", smooth_block, {2, 2, 4, 4}},
        DualCase{"ResidualIdentity", identity_block, {2, 2, 3, 3}},
        // Spectral norm on every layer: the larger step, as for Conv2dBlockedSpectralNorm.
        DualCase{"ResnetCriticSpectralNorm", resnet_critic, {2, 1, 8, 8}, 1e-2f}),
    [](const ::testing::TestParamInfo<DualCase>& param) { return param.param.name; });

TEST(LayerDual, BatchNormHasNone) {
  BatchNorm bn(3);
  EXPECT_FALSE(bn.supports_dual());
  Tensor x({4, 3});
  try {
    bn.forward_dual(x, x);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "layer BatchNorm(3) has no dual mode (forward_dual/backward_dual), which exact gradient "
                           "penalties need from every layer of the critic");
  }
}

// A plugin's layer that did not opt in: the penalty names it.
class Doubler final : public Layer {
 public:
  const Tensor& forward(const Tensor& x, Mode) override {
    y_ = x;
    for (float& v : y_.values()) v *= 2;
    return y_;
  }
  const Tensor& backward(const Tensor& dy, BackwardOptions) override {
    y_ = dy;
    for (float& v : y_.values()) v *= 2;
    return y_;
  }
  std::string describe() const override { return "Doubler"; }

 private:
  Tensor y_;
};

TEST(LayerDual, PenaltyNamesTheLayerWithoutDualMode) {
  Rng rng(23);
  Sequential net;
  net.emplace<Linear>(2, 3, rng);
  net.emplace<Doubler>();
  net.emplace<Linear>(3, 1, rng);
  EXPECT_FALSE(net.supports_dual());
  Critic critic(net);
  Tensor real({2, 2});
  rng.fill_normal(real.values());
  try {
    r1_penalty(critic, real, 1.0);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "layer Doubler has no dual mode (forward_dual/backward_dual), which exact gradient "
                           "penalties need from every layer of the critic");
  }
}

}  // namespace
}  // namespace gantry
