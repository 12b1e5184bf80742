// PacGAN packing (Lin et al. 2018): the Pack layer against its definition and finite differences,
// packed critics and their penalties against PyTorch's float64 double backprop (pack.json from
// make_pack.py), and the mlp generator's batch norm against PyTorch (mlp_batch_norm.json).
#include "support/grad_check.hpp"
#include "support/json.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>
#include <gantry/penalty.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::as_doubles;
using test::max_rel_error;
using test::tensor_of;

TEST(Pack, ConcatenatesConsecutiveSamplesAlongTheFirstSampleAxis) {
  Pack pack(2);
  Tensor x({4, 3});
  for (int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  const Tensor& y = pack.forward(x);
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{2, 6}));
  // Packed input 1 is samples 2 and 3, one after the other.
  EXPECT_EQ(std::vector<float>(y.data() + 6, y.data() + 12), (std::vector<float>{6, 7, 8, 9, 10, 11}));
  Tensor images({6, 2, 3, 3});
  Rng(1).fill_normal(images.values());
  Pack three(3);
  const Tensor& stacked = three.forward(images);
  EXPECT_EQ(stacked.shape(), (std::vector<int64_t>{2, 6, 3, 3}));  // images stacked along channels
  EXPECT_EQ(as_doubles(stacked), as_doubles(images));
  EXPECT_EQ(packed_sample_shape({2, 3, 3}, 3), (std::vector<int64_t>{6, 3, 3}));
}

TEST(Pack, RefusesABatchThatIsNotAMultiple) {
  Pack pack(3);
  try {
    pack.forward(Tensor({4, 2}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Pack(3) needs a batch that is a multiple of 3, got input [4, 2]");
  }
}

TEST(Pack, GradientsMatchFiniteDifferences) {
  Pack pack(2);
  Tensor x({4, 1, 2, 2});
  Rng(2).fill_normal(x.values());
  test::check_layer_gradients(pack, x, 3);
  // Within a critic: one logit per packed input, each depending on its own two samples only.
  Rng rng(4);
  Sequential critic;
  critic.emplace<Pack>(2);
  critic.emplace<Linear>(6, 4, rng);
  critic.add(make_activation(Activation::tanh));
  critic.emplace<Linear>(4, 1, rng);
  Tensor v({6, 3});
  Rng(5).fill_normal(v.values());
  EXPECT_EQ(critic.forward(v).shape(), (std::vector<int64_t>{3, 1}));
  test::check_layer_gradients(critic, v, 6);
}

TEST(Pack, DualModeCarriesTheTangentLikeTheValue) {
  Pack pack(2);
  Tensor x({4, 3}), x_dot({4, 3});
  Rng(7).fill_normal(x.values());
  Rng(8).fill_normal(x_dot.values());
  const DualTensors y = pack.forward_dual(x, x_dot);
  EXPECT_EQ(y.tangent->shape(), (std::vector<int64_t>{2, 6}));
  EXPECT_EQ(as_doubles(*y.tangent), as_doubles(x_dot));
  Tensor y_dot_bar({2, 6});
  Rng(9).fill_normal(y_dot_bar.values());
  const DualTensors back = pack.backward_dual(Tensor(), y_dot_bar);
  EXPECT_EQ(back.value->size(), 0);  // a zero adjoint stays empty
  EXPECT_EQ(back.tangent->shape(), (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(as_doubles(*back.tangent), as_doubles(y_dot_bar));
}

// The critics of make_pack.py, built alike (PyTorch's parameter order is gantry's).
std::unique_ptr<Sequential> packed_critic(const std::string& name, const test::Json& ref, int64_t m) {
  Rng rng(0);
  auto net = std::make_unique<Sequential>();
  net->emplace<Pack>(m);
  if (name == "mlp") {
    net->emplace<Linear>(2 * m, 5, rng);
    net->add(make_activation(Activation::tanh));
    net->emplace<Linear>(5, 5, rng);
    net->add(make_activation(Activation::leaky_relu, 0.2f));
    net->emplace<Linear>(5, 1, rng);
  } else {
    net->emplace<Conv2d>(m, 4, 4, 2, 1, rng);
    net->add(make_activation(Activation::leaky_relu, 0.2f));
    net->emplace<Conv2d>(4, 8, 4, 2, 1, rng);
    net->add(make_activation(Activation::leaky_relu, 0.2f));
    net->add(make_flatten(32));
    net->emplace<Linear>(32, 1, rng);
  }
  const auto params = net->parameters();
  EXPECT_EQ(params.size(), ref["params"].array.size());
  for (size_t k = 0; k < params.size(); ++k) params[k]->value = tensor_of(ref["params"][k]);
  return net;
}

void expect_grads(Sequential& net, const test::Json& expected, double tol) {
  const auto params = net.parameters();
  for (size_t k = 0; k < params.size(); ++k)
    EXPECT_LT(max_rel_error(as_doubles(params[k]->gradient()), expected[k].numbers()), tol) << "parameter " << k;
}

class PackedCritic : public ::testing::TestWithParam<std::string> {};

// Tolerance 1e-5 as in penalty_test.cpp: float32 against float64 through a few layers.
TEST_P(PackedCritic, MatchesPyTorch) {
  const auto all = test::reference("pack.json");
  const auto& ref = all["critics"][GetParam()];
  const int64_t m = static_cast<int64_t>(all["pack"].number);
  auto net = packed_critic(GetParam(), ref, m);
  const Tensor real = tensor_of(ref["real"]), fake = tensor_of(ref["fake"]), alpha = tensor_of(ref["alpha"]);
  net->zero_grad();
  EXPECT_LT(max_rel_error(as_doubles(net->forward(real)), ref["logits"].numbers()), 1e-5);
  EXPECT_LT(max_rel_error(as_doubles(net->backward(tensor_of(ref["dy"]))), ref["dx"].numbers()), 1e-5);
  Critic critic(*net, m);
  EXPECT_EQ(critic.inputs(real), real.dim(0) / m);
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

INSTANTIATE_TEST_SUITE_P(Critics, PackedCritic, ::testing::Values("mlp", "conv"));

TEST(PackedCritic, WantsOneInterpolationWeightPerPackedInput) {
  const auto all = test::reference("pack.json");
  const auto& ref = all["critics"]["mlp"];
  auto net = packed_critic("mlp", ref, 3);
  Critic critic(*net, 3);
  const Tensor real = tensor_of(ref["real"]), fake = tensor_of(ref["fake"]);
  const std::vector<float> per_sample(6, 0.5f);
  try {
    gradient_penalty(critic, real, fake, per_sample, 10);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "gradient_penalty: 6 interpolation weights for 2 critic inputs (6 samples packed by 3)");
  }
  try {
    critic.inputs(Tensor({4, 2}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "the critic packs 3 samples per input, but the penalty's batch is [4, 2]");
  }
}

// PacGAN's 2D generator: BatchNorm1d after each hidden Linear, before the ReLU.
TEST(MlpBatchNorm, MatchesPyTorchInTrainingAndEvaluation) {
  const auto ref = test::reference("mlp_batch_norm.json");
  Rng rng(0);
  MlpSpec spec;
  spec.in = static_cast<int64_t>(ref["latent"].number);
  spec.width = static_cast<int64_t>(ref["width"].number);
  spec.out = static_cast<int64_t>(ref["out"].number);
  spec.depth = 2;
  spec.batch_norm = true;
  auto net = make_mlp(spec, rng);
  EXPECT_EQ(net->describe(), "Linear(3, 4) - BatchNorm(4) - ReLU - Linear(4, 4) - BatchNorm(4) - ReLU - Linear(4, 2)");
  const auto params = net->parameters();
  ASSERT_EQ(params.size(), ref["params"].array.size());
  for (size_t k = 0; k < params.size(); ++k) params[k]->value = tensor_of(ref["params"][k]);
  for (size_t s = 0; s < ref["steps"].array.size(); ++s) {
    SCOPED_TRACE("step " + std::to_string(s));
    const auto& step = ref["steps"][s];
    const Tensor z = tensor_of(step["z"]);  // alive until the backward pass, which reads it
    EXPECT_LT(max_rel_error(as_doubles(net->forward(z)), step["y"].numbers()), 1e-5);
    net->zero_grad();
    EXPECT_LT(max_rel_error(as_doubles(net->backward(tensor_of(step["dy"]))), step["dz"].numbers()), 1e-5);
    expect_grads(*net, step["grads"], 1e-5);
  }
  EXPECT_LT(max_rel_error(as_doubles(net->forward(tensor_of(ref["eval"]["z"]), Mode::eval)), ref["eval"]["y"].numbers()),
            1e-5);
}

TEST(MlpBatchNorm, GradientsMatchFiniteDifferences) {
  Rng rng(11);
  MlpSpec spec;
  spec.in = 3, spec.width = 5, spec.depth = 2, spec.out = 2;
  spec.batch_norm = true;
  spec.activation = Activation::tanh;  // smooth: no kink for a difference to straddle
  auto net = make_mlp(spec, rng);
  Tensor z({6, 3});
  Rng(12).fill_normal(z.values());
  // A smaller step than the default: the batch statistics make the loss curve faster than a
  // plain MLP's, and at 1e-2 the differences' own error reached 5e-3.
  test::check_layer_gradients(*net, z, 13, 2e-3f);
}

}  // namespace
}  // namespace gantry
