// The ResNet layers — Upsample2d, AvgPool2d, GlobalSumPool, Residual — against PyTorch float64
// (resnet.json from make_resnet.py: one training forward and backward each, blocks with spectral
// norm and with batch norm inside) and against finite differences; and their errors.
#include "support/grad_check.hpp"
#include "support/json.hpp"
#include "support/resnet.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <functional>
#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::as_doubles;
using test::max_rel_error;
using test::tensor_of;

std::unique_ptr<Layer> reference_layer(const std::string& name, Rng& rng) {
  if (name == "upsample") return std::make_unique<Upsample2d>(2);
  if (name == "avgpool") return std::make_unique<AvgPool2d>(2);
  if (name == "sumpool") return std::make_unique<GlobalSumPool>();
  if (name == "down_block") {
    auto block = test::resnet_down_block(3, 4, rng);
    EXPECT_EQ(apply_spectral_norm(*block, rng), 3u);
    return block;
  }
  return test::resnet_up_block(4, rng);
}

class ResnetReference : public ::testing::TestWithParam<std::string> {};

TEST_P(ResnetReference, MatchesPyTorchForwardAndBackward) {
  const auto ref = test::reference("resnet.json")["layers"][GetParam()];
  Rng rng(1);
  auto layer = reference_layer(GetParam(), rng);
  const auto params = layer->parameters();
  ASSERT_EQ(params.size(), ref["params"].array.size());
  for (size_t k = 0; k < params.size(); ++k) params[k]->value = tensor_of(ref["params"][k]);
  // Spectral norm's u, v and batch norm's running statistics, in place: the layers read them there.
  const auto buffers = layer->buffers();
  ASSERT_EQ(buffers.size(), ref["buffers"].array.size());
  for (size_t k = 0; k < buffers.size(); ++k) *buffers[k] = tensor_of(ref["buffers"][k]);
  const Tensor x = tensor_of(ref["x"]);
  const Tensor& y = layer->forward(x, Mode::train);
  EXPECT_EQ(y.shape(), ref["y"].shape());
  EXPECT_LT(max_rel_error(as_doubles(y), ref["y"].numbers()), 1e-5);
  layer->zero_grad();
  EXPECT_LT(max_rel_error(as_doubles(layer->backward(tensor_of(ref["dy"]))), ref["dx"].numbers()), 1e-5);
  for (size_t k = 0; k < params.size(); ++k)
    EXPECT_LT(max_rel_error(as_doubles(params[k]->gradient()), ref["grads"][k].numbers()), 1e-5) << "parameter " << k;
  for (size_t k = 0; k < buffers.size(); ++k)
    EXPECT_LT(max_rel_error(as_doubles(*buffers[k]), ref["buffers_after"][k].numbers()), 1e-6) << "buffer " << k;
}

INSTANTIATE_TEST_SUITE_P(Layers, ResnetReference,
                         ::testing::Values("upsample", "avgpool", "sumpool", "down_block", "up_block"));

struct GradCase {
  std::string name;
  std::function<std::unique_ptr<Layer>(Rng&)> make;
  std::vector<int64_t> input_shape;
  Mode mode = Mode::train;
};
std::ostream& operator<<(std::ostream& os, const GradCase& c) { return os << c.name; }

class ResnetGradients : public ::testing::TestWithParam<GradCase> {};

// The blocks use tanh in place of ReLU (support/resnet.hpp says why); the ReLU blocks are checked
// against PyTorch above. The identity block's only activation reads the input, which is kept at
// least 0.1 away from the kink at 0 (step 1e-3 there).
TEST_P(ResnetGradients, MatchFiniteDifferences) {
  Rng rng(5);
  auto layer = GetParam().make(rng);
  Tensor x(GetParam().input_shape);
  rng.fill_normal(x.values());
  for (float& v : x.values()) v += v < 0 ? -0.1f : 0.1f;
  test::check_layer_gradients(*layer, x, 7, 1e-3f, 2e-3, GetParam().mode);
}

std::unique_ptr<Layer> identity_block(Rng& rng) {
  auto main = std::make_unique<Sequential>();
  main->add(make_activation(Activation::relu));
  main->emplace<Conv2d>(3, 3, 3, 1, 1, rng);
  return std::make_unique<Residual>(std::move(main));
}

// Spectral norm in evaluation mode: u and v held, as its gradient defines them.
std::unique_ptr<Layer> normalised_down_block(Rng& rng) {
  auto block = test::resnet_down_block(3, 4, rng, Activation::tanh);
  apply_spectral_norm(*block, rng);
  block->forward(Tensor({2, 3, 4, 4}), Mode::train);  // u and v off their random start
  return block;
}

INSTANTIATE_TEST_SUITE_P(
    Layers, ResnetGradients,
    ::testing::Values(GradCase{"Upsample2d", [](Rng&) { return std::make_unique<Upsample2d>(2); }, {2, 3, 2, 3}},
                      GradCase{"Upsample2dByThree", [](Rng&) { return std::make_unique<Upsample2d>(3); }, {1, 2, 2, 2}},
                      GradCase{"AvgPool2d", [](Rng&) { return std::make_unique<AvgPool2d>(2); }, {2, 3, 4, 6}},
                      GradCase{"AvgPool2dByThree", [](Rng&) { return std::make_unique<AvgPool2d>(3); }, {1, 2, 6, 3}},
                      GradCase{"GlobalSumPool", [](Rng&) { return std::make_unique<GlobalSumPool>(); }, {2, 3, 3, 2}},
                      GradCase{"ResidualIdentity", identity_block, {2, 3, 4, 4}},
                      GradCase{"ResidualDownSpectralNorm", normalised_down_block, {2, 3, 4, 4}, Mode::eval},
                      GradCase{"ResidualUpBatchNorm",
                               [](Rng& rng) { return test::resnet_up_block(3, rng, Activation::tanh); }, {3, 3, 2, 2}},
                      // 16 channels: the convolutions on blocked layouts behind their reorders.
                      GradCase{"ResidualDownBlocked",
                               [](Rng& rng) { return test::resnet_down_block(16, 16, rng, Activation::tanh); },
                               {2, 16, 4, 4}}),
    [](const ::testing::TestParamInfo<GradCase>& param) { return param.param.name; });

TEST(Upsample2d, RepeatsEachPixelOverABlock) {
  Upsample2d up(2);
  const Tensor& y = up.forward(Tensor({1, 1, 1, 2}, {3, -1}));
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{1, 1, 2, 4}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{3, 3, -1, -1, 3, 3, -1, -1}));
}

TEST(AvgPool2d, AveragesEachBlock) {
  AvgPool2d pool(2);
  const Tensor& y = pool.forward(Tensor({1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{3.5, 5.5}));
}

TEST(GlobalSumPool, SumsEachChannel) {
  GlobalSumPool pool;
  const Tensor& y = pool.forward(Tensor({1, 2, 1, 2}, {1, 2, 3, 4}));
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{3, 7}));
}

void expect_error(Layer& layer, const Tensor& x, const std::string& message) {
  try {
    layer.forward(x);
    FAIL() << "no error for " << shape_string(x.shape());
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(ResnetLayers, RefuseShapesTheyCannotTake) {
  AvgPool2d pool(2);
  expect_error(pool, Tensor({1, 1, 5, 4}), "AvgPool2d(2) needs images [N, C, H, W] with H and W multiples of 2, got [1, 1, 5, 4]");
  Upsample2d up(2);
  expect_error(up, Tensor({2, 6}), "Upsample2d(×2) needs images [N, C, H, W], got [2, 6]");
  GlobalSumPool sum;
  expect_error(sum, Tensor({2, 6}), "GlobalSumPool needs images [N, C, H, W], got [2, 6]");
}

TEST(Residual, RefusesBranchesOfDifferentShapes) {
  auto main = std::make_unique<Sequential>();
  main->emplace<AvgPool2d>(2);
  Residual block(std::move(main));
  expect_error(block, Tensor({1, 1, 2, 2}),
               "Residual(AvgPool2d(2) + identity): on input [1, 1, 2, 2] the main branch gives [1, 1, 1, 1] but the "
               "shortcut gives [1, 1, 2, 2]");
}

// What the trainer and checkpoints read from a network: every child's parameters, buffers and
// batch coupling, through the branches.
TEST(Residual, ReportsItsBranchesParametersBuffersAndCoupling) {
  Rng rng(2);
  auto up = test::resnet_up_block(4, rng);
  EXPECT_EQ(up->parameters().size(), 4u + 4u + 2u);  // 2 BN (γ, β), 2 conv (W, b); shortcut conv (W, b)
  EXPECT_EQ(up->buffers().size(), 4u);               // the two BNs' running statistics
  EXPECT_TRUE(up->couples_batch());
  EXPECT_FALSE(up->supports_dual());
  auto down = test::resnet_down_block(3, 4, rng);
  EXPECT_FALSE(down->couples_batch());
  EXPECT_TRUE(down->supports_dual());
  EXPECT_EQ(down->buffers().size(), 0u);
  EXPECT_EQ(apply_spectral_norm(*down, rng), 3u);
  EXPECT_EQ(down->buffers().size(), 6u);  // u and v of each convolution
  EXPECT_EQ(down->parameters()[4], &dynamic_cast<Conv2d&>(down->shortcut()->at(0)).weight());
}

// The generator step: D's backward with weight_grad = false leaves D's gradients alone but still
// gives dL/dx through both branches; input_grad = false gives nothing back.
TEST(Residual, HonoursBackwardOptions) {
  Rng rng(3);
  auto block = test::resnet_down_block(3, 4, rng);
  Tensor x({2, 3, 4, 4});
  rng.fill_normal(x.values());
  Tensor dy(block->forward(x).shape());
  dy.fill(1.0f);
  block->zero_grad();
  const Tensor full = block->backward(dy);
  for (Parameter* p : block->parameters()) p->zero_grad();
  block->forward(x);
  const Tensor data_only = block->backward(dy, {.input_grad = true, .weight_grad = false});
  EXPECT_EQ(as_doubles(data_only), as_doubles(full));
  for (Parameter* p : block->parameters()) EXPECT_TRUE(p->grad_is_zero()) << p->name;
  block->forward(x);
  EXPECT_EQ(block->backward(dy, {.input_grad = false, .weight_grad = true}).size(), 0);
  for (Parameter* p : block->parameters()) EXPECT_FALSE(p->grad_is_zero()) << p->name;
}

}  // namespace
}  // namespace gantry
