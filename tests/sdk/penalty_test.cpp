// Gradient penalties: against PyTorch's exact double backprop (penalties.json on an MLP critic,
// conv_penalties.json on convolutional ones) and against finite differences of the penalty's value.
//
// Tolerance 1e-5 (max |a − b| / max(1, |b|)): gantry runs in float32 against float64 references,
// so what separates them is float32 rounding through a few layers, forward and back. Seen on an
// AMD EPYC: at most 5e-7 on the MLP (whose reference parameters are rounded to 12 digits,
// not float32 values) and 2.4e-7 on the convolutional critics — a 20× margin for CPUs whose
// kernels sum in another order.
#include "support/grad_check.hpp"
#include "support/json.hpp"
#include "support/resnet.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>
#include <gantry/penalty.hpp>

#include <cmath>
#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::tensor_of;

// The reference critic: Linear(2,8)-LeakyReLU(0.2)-Linear(8,8)-LeakyReLU(0.2)-Linear(8,1).
std::unique_ptr<Sequential> reference_critic(const test::Json& ref) {
  Rng rng(0);
  MlpSpec spec;
  spec.in = 2, spec.width = 8, spec.depth = 2, spec.out = 1;
  spec.activation = Activation::leaky_relu;
  spec.slope = 0.2f;
  auto net = make_mlp(spec, rng);
  const auto params = net->parameters();
  for (size_t k = 0; k < params.size(); ++k) params[k]->value = tensor_of(ref["params"][k]);
  return net;
}

void expect_grads(Sequential& net, const test::Json& expected, double tol) {
  const auto params = net.parameters();
  for (size_t k = 0; k < params.size(); ++k)
    EXPECT_LT(test::max_rel_error(test::as_doubles(params[k]->gradient()), expected[k].numbers()), tol)
        << "parameter " << k;
}

TEST(GradientPenalty, MatchesExactDoubleBackprop) {
  const auto ref = test::reference("penalties.json");
  auto net = reference_critic(ref);
  Critic critic(*net);
  const Tensor real = tensor_of(ref["real"]), fake = tensor_of(ref["fake"]), alpha = tensor_of(ref["alpha"]);
  net->zero_grad();
  const double value = gradient_penalty(critic, real, fake, alpha.values(), ref["gp"]["lambda"].number);
  EXPECT_NEAR(value, ref["gp"]["value"].number, 1e-5 * ref["gp"]["value"].number);
  expect_grads(*net, ref["gp"]["grads"], 1e-5);
}

TEST(R1Penalty, MatchesExactDoubleBackprop) {
  const auto ref = test::reference("penalties.json");
  auto net = reference_critic(ref);
  Critic critic(*net);
  net->zero_grad();
  const double value = r1_penalty(critic, tensor_of(ref["real"]), ref["r1"]["gamma"].number);
  EXPECT_NEAR(value, ref["r1"]["value"].number, 1e-5 * ref["r1"]["value"].number);
  expect_grads(*net, ref["r1"]["grads"], 1e-5);
}

// The critics of make_conv_penalties.py, built alike (PyTorch's parameter order is gantry's).
std::unique_ptr<Sequential> conv_critic(const std::string& name, const test::Json& ref) {
  Rng rng(0);
  auto net = std::make_unique<Sequential>();
  if (name == "conv") {
    net->emplace<Conv2d>(1, 4, 4, 2, 1, rng);
    net->add(make_activation(Activation::leaky_relu, 0.2f));
    net->emplace<Conv2d>(4, 8, 4, 2, 1, rng);
    net->add(make_activation(Activation::leaky_relu, 0.2f));
    net->add(make_flatten(32));
    net->emplace<Linear>(32, 1, rng);
  } else if (name == "conv16" || name == "sn") {  // "sn": the same critic, spectrally normalised
    net->emplace<Conv2d>(1, 16, 4, 2, 1, rng);
    net->add(make_activation(Activation::leaky_relu, 0.2f));
    net->emplace<Conv2d>(16, 16, 3, 1, 1, rng);
    net->add(make_activation(Activation::leaky_relu, 0.2f));
    net->add(make_flatten(256));
    net->emplace<Linear>(256, 1, rng);
    if (name == "sn") {
      EXPECT_EQ(apply_spectral_norm(*net, rng), 3u);
    }
  } else {
    net->emplace<Conv2d>(1, 4, 3, 2, 1, rng);
    net->add(make_activation(Activation::tanh));
    net->emplace<ConvTranspose2d>(4, 2, 4, 2, 1, rng);
    net->add(make_activation(Activation::sigmoid));
    net->add(make_flatten(72));
    net->emplace<Linear>(72, 1, rng);
  }
  const auto params = net->parameters();
  EXPECT_EQ(params.size(), ref["params"].array.size());
  for (size_t k = 0; k < params.size(); ++k) params[k]->value = tensor_of(ref["params"][k]);
  // Spectral norm's u and v, in place: the layers read them through these pointers.
  const auto buffers = net->buffers();
  EXPECT_EQ(buffers.size(), ref["buffers"].array.size());
  for (size_t k = 0; k < buffers.size(); ++k) *buffers[k] = tensor_of(ref["buffers"][k]);
  return net;
}

class ConvolutionalPenalty : public ::testing::TestWithParam<std::string> {};

TEST_P(ConvolutionalPenalty, MatchesExactDoubleBackprop) {
  const auto all = test::reference("conv_penalties.json");
  const auto& ref = all["critics"][GetParam()];
  auto net = conv_critic(GetParam(), ref);
  Critic critic(*net);
  const Tensor real = tensor_of(ref["real"]), fake = tensor_of(ref["fake"]), alpha = tensor_of(ref["alpha"]);
  net->zero_grad();
  const double gp = gradient_penalty(critic, real, fake, alpha.values(), ref["gp"]["lambda"].number);
  EXPECT_NEAR(gp, ref["gp"]["value"].number, 1e-5 * ref["gp"]["value"].number);
  {
    SCOPED_TRACE("gp");
    expect_grads(*net, ref["gp"]["grads"], 1e-5);
  }
  net->zero_grad();
  const double r1 = r1_penalty(critic, real, ref["r1"]["gamma"].number);
  EXPECT_NEAR(r1, ref["r1"]["value"].number, 1e-5 * ref["r1"]["value"].number);
  SCOPED_TRACE("r1");
  expect_grads(*net, ref["r1"]["grads"], 1e-5);
}

// "sn": spectral norm on every layer; the parameter gradients include the path through σ(W), and
// each penalty's forward takes one power iteration, as PyTorch's does (gp, then r1).
INSTANTIATE_TEST_SUITE_P(Critics, ConvolutionalPenalty, ::testing::Values("conv", "conv16", "deconv", "sn"));

// SNGAN's ResNet critic in miniature (make_resnet.py): residual blocks with 1×1 and identity
// shortcuts, average pooling, global sum pooling and spectral norm on every layer, 16 channels.
TEST(ResnetCriticPenalty, MatchesExactDoubleBackprop) {
  const auto ref = test::reference("resnet.json")["critic"];
  Rng rng(0);
  auto net = test::small_resnet_critic(16, true, rng);
  const auto params = net->parameters();
  ASSERT_EQ(params.size(), ref["params"].array.size());
  for (size_t k = 0; k < params.size(); ++k) params[k]->value = tensor_of(ref["params"][k]);
  const auto buffers = net->buffers();
  ASSERT_EQ(buffers.size(), ref["buffers"].array.size());
  for (size_t k = 0; k < buffers.size(); ++k) *buffers[k] = tensor_of(ref["buffers"][k]);
  Critic critic(*net);
  const Tensor real = tensor_of(ref["real"]), fake = tensor_of(ref["fake"]), alpha = tensor_of(ref["alpha"]);
  net->zero_grad();
  const double gp = gradient_penalty(critic, real, fake, alpha.values(), ref["gp"]["lambda"].number);
  EXPECT_NEAR(gp, ref["gp"]["value"].number, 1e-5 * ref["gp"]["value"].number);
  {
    SCOPED_TRACE("gp");
    expect_grads(*net, ref["gp"]["grads"], 1e-5);
  }
  net->zero_grad();
  const double r1 = r1_penalty(critic, real, ref["r1"]["gamma"].number);
  EXPECT_NEAR(r1, ref["r1"]["value"].number, 1e-5 * ref["r1"]["value"].number);
  SCOPED_TRACE("r1");
  expect_grads(*net, ref["r1"]["grads"], 1e-5);
}

TEST(Critic, RefusesABatchCoupledCritic) {
  Rng rng(9);
  Sequential net;
  net.emplace<Linear>(2, 3, rng);
  net.emplace<BatchNorm>(3);
  net.emplace<Linear>(3, 1, rng);
  Critic critic(net);
  Tensor real({4, 2});
  rng.fill_normal(real.values());
  EXPECT_THROW(
      {
        try {
          r1_penalty(critic, real, 1.0);
        } catch (const Error& e) {
          EXPECT_STREQ(e.what(), "a gradient penalty needs a discriminator that treats each sample on its own, but "
                                 "this one normalises over its batch (BatchNorm): turn its batch normalisation off");
          throw;
        }
      },
      Error);
}

// DRAGAN is WGAN-GP's penalty at x + α(x_p − x), x_p = x + 0.5·std(x)·u: the same draws, made here
// by hand from a copy of the generator, give the same value and gradients.
TEST(DraganPenalty, IsTheGradientPenaltyAtPerturbedRealSamples) {
  Rng init(21);
  MlpSpec spec;
  spec.in = 3, spec.width = 5, spec.depth = 2, spec.out = 1;
  spec.activation = Activation::tanh;
  auto net = make_mlp(spec, init);
  Tensor real({5, 3});
  init.fill_normal(real.values(), 0.5f, 2.0f);
  double mean = 0, sq = 0;
  for (float x : real.values()) mean += x / 15.0;
  for (float x : real.values()) sq += (x - mean) * (x - mean) / 15.0;
  Rng rng(4), copy(4);
  Tensor perturbed(real.shape());
  copy.fill_uniform(perturbed.values(), 0.0f, 1.0f);
  for (int64_t i = 0; i < real.size(); ++i) perturbed[i] = real[i] + static_cast<float>(0.5 * std::sqrt(sq)) * perturbed[i];
  std::vector<float> alpha(5);
  copy.fill_uniform(alpha, 0.0f, 1.0f);
  Critic critic(*net);
  net->zero_grad();
  const double expected = gradient_penalty(critic, perturbed, real, alpha, 10.0);
  std::vector<std::vector<double>> expected_grads;
  for (Parameter* p : net->parameters()) expected_grads.push_back(test::as_doubles(p->gradient()));
  net->zero_grad();
  EXPECT_NEAR(dragan_penalty(critic, real, rng, 10.0), expected, 1e-6 * expected);
  size_t k = 0;
  for (Parameter* p : net->parameters()) EXPECT_LT(test::max_rel_error(test::as_doubles(p->gradient()), expected_grads[k++]), 1e-6);
  // Its parameter gradient against finite differences of its value, with the same draws each time.
  auto value = [&] {
    Rng same(4);
    return dragan_penalty(critic, real, same, 10.0);
  };
  net->zero_grad();
  value();
  std::vector<std::vector<double>> analytic;
  for (Parameter* p : net->parameters()) analytic.push_back(test::as_doubles(p->gradient()));
  k = 0;
  for (Parameter* p : net->parameters())
    EXPECT_LT(test::max_rel_error(analytic[k++], test::numeric_gradient(p->value.values(), value, 1e-3f)), 5e-3)
        << p->name << " of layer parameter " << k - 1;
}

TEST(Critic, InputGradientMatchesFiniteDifferences) {
  Rng rng(3);
  MlpSpec spec;
  spec.in = 3, spec.width = 6, spec.depth = 2, spec.out = 1;
  spec.activation = Activation::tanh;
  auto net = make_mlp(spec, rng);
  Critic critic(*net);
  Tensor x({4, 3});
  rng.fill_normal(x.values());
  const Tensor g = critic.input_gradient(x);
  auto sum_d = [&] {
    double s = 0;
    for (float v : net->forward(x).values()) s += v;
    return s;
  };
  EXPECT_LT(test::max_rel_error(test::as_doubles(g), test::numeric_gradient(x.values(), sum_d, 1e-3f)), 2e-3);
}

// The penalty's parameter gradient against central differences of its value, for a smooth critic
// (tanh) and a piecewise-linear one (leaky ReLU), for both penalties.
class PenaltyGradient : public ::testing::TestWithParam<std::tuple<Activation, bool>> {};

TEST_P(PenaltyGradient, MatchesFiniteDifferencesOfTheValue) {
  const auto [activation, gp] = GetParam();
  Rng rng(5);
  MlpSpec spec;
  spec.in = 2, spec.width = 5, spec.depth = 2, spec.out = 1;
  spec.activation = activation;
  auto net = make_mlp(spec, rng);
  Critic critic(*net);
  Tensor real({6, 2}), fake({6, 2});
  rng.fill_normal(real.values());
  rng.fill_normal(fake.values());
  std::vector<float> alpha(6);
  rng.fill_uniform(alpha, 0.0f, 1.0f);
  auto value = [&] {
    return gp ? gradient_penalty(critic, real, fake, alpha, 10.0) : r1_penalty(critic, real, 10.0);
  };
  net->zero_grad();
  value();
  std::vector<std::vector<double>> analytic;
  for (Parameter* p : net->parameters()) analytic.push_back(test::as_doubles(p->gradient()));
  size_t k = 0;
  for (Parameter* p : net->parameters())
    EXPECT_LT(test::max_rel_error(analytic[k++], test::numeric_gradient(p->value.values(), value, 1e-3f)), 5e-3)
        << p->name << " of layer parameter " << k - 1;
}

INSTANTIATE_TEST_SUITE_P(Critics, PenaltyGradient,
                         ::testing::Combine(::testing::Values(Activation::tanh, Activation::leaky_relu),
                                            ::testing::Bool()));

// The penalties on a convolutional critic: [N, 1, 5, 5] → Conv(1→3, k3, s1, p1) → Tanh →
// Conv(3→1, k5) → one logit per sample. Tanh, because with a few hundred leaky-ReLU units a 1e-3
// nudge of a weight flips some unit and makes the *numerical* reference jump (∇x D is piecewise
// constant there), while the analytic gradient is fine.
TEST(PenaltyGradient, ConvolutionalCriticMatchesFiniteDifferences) {
  for (bool gp : {true, false}) {
    Rng rng(7);
    Sequential net;
    net.emplace<Conv2d>(1, 3, 3, 1, 1, rng);
    net.add(make_activation(Activation::tanh));
    net.emplace<Conv2d>(3, 1, 5, 1, 0, rng);
    Critic critic(net);
    Tensor real({4, 1, 5, 5}), fake({4, 1, 5, 5});
    rng.fill_normal(real.values());
    rng.fill_normal(fake.values());
    std::vector<float> alpha(4);
    rng.fill_uniform(alpha, 0.0f, 1.0f);
    auto value = [&] { return gp ? gradient_penalty(critic, real, fake, alpha, 10.0) : r1_penalty(critic, real, 10.0); };
    net.zero_grad();
    value();
    std::vector<std::vector<double>> analytic;
    for (Parameter* p : net.parameters()) analytic.push_back(test::as_doubles(p->gradient()));
    size_t k = 0;
    for (Parameter* p : net.parameters())
      EXPECT_LT(test::max_rel_error(analytic[k++], test::numeric_gradient(p->value.values(), value, 1e-3f)), 5e-3)
          << (gp ? "gp" : "r1") << " " << p->name << " of parameter " << k - 1;
  }
}

}  // namespace
}  // namespace gantry
