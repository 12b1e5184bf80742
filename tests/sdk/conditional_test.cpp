// Class-conditional layers: against PyTorch in float64 (conditional.json from
// make_conditional.py), against finite differences over several shapes, and the label slot's errors.
#include "support/grad_check.hpp"
#include "support/json.hpp"

#include <gantry/conditional.hpp>
#include <gantry/error.hpp>
#include <gantry/layers.hpp>
#include <gantry/penalty.hpp>

#include <cmath>
#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::as_doubles;
using test::max_rel_error;
using test::tensor_of;

void load(Tensor& into, const test::Json& from) {
  const std::vector<double> values = from.numbers();
  ASSERT_EQ(static_cast<int64_t>(values.size()), into.size());
  for (int64_t i = 0; i < into.size(); ++i) into[i] = static_cast<float>(values[static_cast<size_t>(i)]);
}

std::shared_ptr<LabelSlot> slot_of(const test::Json& ref) {
  auto slot = std::make_shared<LabelSlot>(static_cast<int64_t>(ref["classes"].number));
  std::vector<int32_t> labels;
  for (double v : ref["labels"].numbers()) labels.push_back(static_cast<int32_t>(v));
  slot->set(labels);
  return slot;
}

std::shared_ptr<LabelSlot> slot_with(int64_t classes, const std::vector<int32_t>& labels) {
  auto slot = std::make_shared<LabelSlot>(classes);
  slot->set(labels);
  return slot;
}

TEST(ConditionalReference, LabelConcatMatchesPyTorch) {
  const auto ref = test::reference("conditional.json")["label_concat"];
  const Tensor x = tensor_of(ref["x"]);
  auto slot = slot_of(ref);
  Rng rng(1);
  LabelConcat layer(x.dim(1), 2, slot, rng);
  load(layer.parameters().at(0)->value, ref["embedding"]);
  EXPECT_LT(max_rel_error(as_doubles(layer.forward(x)), ref["y"].numbers()), 1e-6);
  layer.zero_grad();
  EXPECT_LT(max_rel_error(as_doubles(layer.backward(tensor_of(ref["dy"]))), ref["dx"].numbers()), 1e-6);
  EXPECT_LT(max_rel_error(as_doubles(layer.parameters().at(0)->gradient()), ref["dembedding"].numbers()), 1e-6);
  LabelConcat one_hot(x.dim(1), 0, slot, rng);
  EXPECT_TRUE(one_hot.parameters().empty());
  EXPECT_EQ(as_doubles(one_hot.forward(x)), ref["y_one_hot"].numbers());
}

TEST(ConditionalReference, ConditionalBatchNormMatchesPyTorch) {
  const auto ref = test::reference("conditional.json")["cbn"];
  const Tensor x = tensor_of(ref["x"]);
  ConditionalBatchNorm layer(x.dim(1), slot_of(ref));
  load(layer.gamma().value, ref["gamma"]);
  load(layer.beta().value, ref["beta"]);
  EXPECT_LT(max_rel_error(as_doubles(layer.forward(x)), ref["y"].numbers()), 1e-5);
  const std::vector<Tensor*> stats = layer.buffers();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_LT(max_rel_error(as_doubles(*stats[0]), ref["running_mean"].numbers()), 1e-6);
  EXPECT_LT(max_rel_error(as_doubles(*stats[1]), ref["running_var"].numbers()), 1e-6);
  layer.zero_grad();
  EXPECT_LT(max_rel_error(as_doubles(layer.backward(tensor_of(ref["dy"]))), ref["dx"].numbers()), 1e-5);
  EXPECT_LT(max_rel_error(as_doubles(layer.gamma().gradient()), ref["dgamma"].numbers()), 1e-5);
  EXPECT_LT(max_rel_error(as_doubles(layer.beta().gradient()), ref["dbeta"].numbers()), 1e-5);
}

TEST(ConditionalReference, ProjectionHeadMatchesPyTorch) {
  const auto ref = test::reference("conditional.json")["projection"];
  const Tensor x = tensor_of(ref["x"]);
  Rng rng(2);
  ProjectionHead head(x.dim(1), slot_of(ref), rng);
  load(head.psi().weight().value, ref["weight"]);
  load(head.psi().bias().value, ref["bias"]);
  load(head.embedding().value, ref["embedding"]);
  EXPECT_LT(max_rel_error(as_doubles(head.forward(x)), ref["y"].numbers()), 1e-5);
  head.zero_grad();
  EXPECT_LT(max_rel_error(as_doubles(head.backward(tensor_of(ref["dy"]))), ref["dx"].numbers()), 1e-5);
  EXPECT_LT(max_rel_error(as_doubles(head.psi().weight().gradient()), ref["dweight"].numbers()), 1e-5);
  EXPECT_LT(max_rel_error(as_doubles(head.psi().bias().gradient()), ref["dbias"].numbers()), 1e-5);
  EXPECT_LT(max_rel_error(as_doubles(head.embedding().gradient()), ref["dembedding"].numbers()), 1e-5);
}

struct Case {
  std::vector<int64_t> shape;
  int64_t classes;
};

class ConditionalGradients : public ::testing::TestWithParam<Case> {
 protected:
  // Random labels that use every class at least once when the batch allows.
  std::shared_ptr<LabelSlot> random_slot(int64_t n, int64_t classes, uint64_t seed) {
    auto slot = std::make_shared<LabelSlot>(classes);
    std::vector<int32_t> labels(static_cast<size_t>(n));
    Rng rng(seed);
    draw_labels(rng, classes, labels);
    for (int64_t i = 0; i < std::min(n, classes); ++i) labels[static_cast<size_t>(i)] = static_cast<int32_t>(i);
    slot->set(labels);
    return slot;
  }
  Tensor input(uint64_t seed) {
    Tensor x(GetParam().shape);
    Rng(seed).fill_normal(x.values());
    return x;
  }
};

TEST_P(ConditionalGradients, ConditionalBatchNorm) {
  const Tensor x = input(5);
  ConditionalBatchNorm layer(x.dim(1), random_slot(x.dim(0), GetParam().classes, 6));
  Rng rng(7);  // away from γ = 1, β = 0, so every path of the gradient is exercised
  rng.fill_uniform(layer.gamma().value.values(), 0.5f, 1.5f);
  rng.fill_uniform(layer.beta().value.values(), -0.5f, 0.5f);
  test::check_layer_gradients(layer, x, 8);
}

TEST_P(ConditionalGradients, ProjectionHead) {
  const Tensor x = input(9);
  Rng rng(10);
  ProjectionHead head(x.sample_size(), random_slot(x.dim(0), GetParam().classes, 11), rng);
  test::check_layer_gradients(head, x, 12);
}

// The gradient holds u and v constant, so finite differences of evaluation forwards (which use
// the stored u and v) differentiate what backward computes, the path through σ(E) included.
TEST_P(ConditionalGradients, ProjectionHeadSpectralNorm) {
  const Tensor x = input(17);
  Rng rng(18);
  ProjectionHead head(x.sample_size(), random_slot(x.dim(0), GetParam().classes, 19), rng);
  head.enable_spectral_norm(rng);
  for (int i = 0; i < 3; ++i) head.forward(x, Mode::train);  // u and v away from their random start
  test::check_layer_gradients(head, x, 20, 1e-2f, 2e-3, Mode::eval);
}

TEST_P(ConditionalGradients, LabelConcatEmbedding) {
  // LabelConcat takes [N, F]: the image shapes are read as N samples of C·H·W features.
  Tensor x = input(13);
  x.reshape({x.dim(0), x.sample_size()});
  Rng rng(14);
  LabelConcat layer(x.dim(1), 3, random_slot(x.dim(0), GetParam().classes, 15), rng);
  test::check_layer_gradients(layer, x, 16);
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name;
  for (int64_t d : info.param.shape) name += std::to_string(d) + "x";
  return name + std::to_string(info.param.classes) + "classes";
}

// [N, C] for BatchNorm1d's case; 16 channels put the normalisation on oneDNN's blocked layout.
INSTANTIATE_TEST_SUITE_P(Shapes, ConditionalGradients,
                         ::testing::Values(Case{{6, 4}, 3}, Case{{5, 3, 2, 2}, 2}, Case{{8, 2, 3, 3}, 5},
                                           Case{{7, 16, 2, 2}, 4}),
                         case_name);

TEST(LabelSlot, RefusesLabelsOutsideItsClasses) {
  LabelSlot slot(3);
  const std::vector<int32_t> labels{0, 3};
  try {
    slot.set(labels);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "label 3 of sample 1 is outside [0, 3)");
  }
}

TEST(LabelSlot, ALayerRefusesABatchWhoseLabelsWereNotSet) {
  Rng rng(1);
  ProjectionHead head(3, slot_with(4, {1, 2}), rng);
  try {
    head.forward(Tensor({5, 3}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "ProjectionHead(3, 4 classes) has 2 labels for a batch of 5 samples: set the network's "
                           "labels before forward()");
  }
}

TEST(LabelSlot, BackwardUsesTheLabelsOfItsForward) {
  auto slot = std::make_shared<LabelSlot>(2);
  std::vector<int32_t> labels{0, 1};
  slot->set(labels);
  Rng rng(3);
  ProjectionHead head(2, slot, rng);
  Tensor x({2, 2}, {1, 2, 3, 4}), dy({2, 1}, {1, 1});
  head.forward(x);
  head.zero_grad();
  labels = {1, 1};
  slot->set(labels);  // set for the next forward: the pending backward still uses {0, 1}
  head.backward(dy);
  const Tensor& de = head.embedding().gradient();
  EXPECT_EQ(as_doubles(de), (std::vector<double>{1, 2, 3, 4}));
}

TEST(Labels, CyclicLabelsAreBalanced) {
  EXPECT_EQ(cyclic_labels(7, 3), (std::vector<int32_t>{0, 1, 2, 0, 1, 2, 0}));
}

void expect_grads(Layer& net, const test::Json& expected) {
  const auto params = net.parameters();
  ASSERT_EQ(params.size(), expected.array.size());
  for (size_t k = 0; k < params.size(); ++k)
    EXPECT_LT(max_rel_error(as_doubles(params[k]->gradient()), expected[k].numbers()), 1e-5) << "parameter " << k;
}

// The projection critic of make_conditional.py: spectral norm on the convolution, ψ and E, exact
// WGAN-GP and R1 gradients through the head's dual mode, each penalty taking one power iteration.
TEST(ConditionalPenalty, ProjectionCriticMatchesExactDoubleBackprop) {
  const auto ref = test::reference("conditional.json")["projection_critic"];
  Rng rng(0);
  Sequential d;
  d.emplace<Conv2d>(1, 4, 4, 2, 1, rng);
  d.add(make_activation(Activation::leaky_relu, 0.2f));
  d.add(make_flatten(64));
  d.emplace<ProjectionHead>(64, slot_of(ref), rng);
  EXPECT_EQ(apply_spectral_norm(d, rng), 2u);
  EXPECT_TRUE(d.supports_dual());
  const auto params = d.parameters();
  ASSERT_EQ(params.size(), ref["params"].array.size());
  for (size_t k = 0; k < params.size(); ++k) load(params[k]->value, ref["params"][k]);
  const auto buffers = d.buffers();
  ASSERT_EQ(buffers.size(), ref["buffers"].array.size());  // u and v of the convolution, ψ and E
  for (size_t k = 0; k < buffers.size(); ++k) load(*buffers[k], ref["buffers"][k]);
  Critic critic(d);
  const Tensor real = tensor_of(ref["real"]), fake = tensor_of(ref["fake"]), alpha = tensor_of(ref["alpha"]);
  const double lambda = ref["lambda"].number;
  d.zero_grad();
  EXPECT_NEAR(gradient_penalty(critic, real, fake, alpha.values(), lambda), ref["gp"]["value"].number,
              1e-5 * ref["gp"]["value"].number);
  {
    SCOPED_TRACE("gp");
    expect_grads(d, ref["gp"]["grads"]);
  }
  d.zero_grad();
  EXPECT_NEAR(r1_penalty(critic, real, lambda), ref["r1"]["value"].number, 1e-5 * ref["r1"]["value"].number);
  SCOPED_TRACE("r1");
  expect_grads(d, ref["r1"]["grads"]);
}

// The largest singular value of a [rows, cols] matrix, by power iteration on MᵀM in double.
double sigma_of(const Tensor& m) {
  const int64_t rows = m.dim(0), cols = m.dim(1);
  std::vector<double> v(static_cast<size_t>(cols), 1.0), mv(static_cast<size_t>(rows));
  double sigma = 0;
  for (int it = 0; it < 1000; ++it) {
    for (int64_t i = 0; i < rows; ++i) {
      mv[i] = 0;
      for (int64_t j = 0; j < cols; ++j) mv[i] += m[i * cols + j] * v[j];
    }
    double norm = 0;
    for (int64_t j = 0; j < cols; ++j) {
      v[j] = 0;
      for (int64_t i = 0; i < rows; ++i) v[j] += m[i * cols + j] * mv[i];
      norm += v[j] * v[j];
    }
    norm = std::sqrt(norm);
    for (double& x : v) x /= norm;
    sigma = std::sqrt(norm);
  }
  return sigma;
}

TEST(ConditionalPenalty, SpectralNormOnTheHeadNormalisesPsiAndTheEmbedding) {
  Rng rng(5);
  ProjectionHead head(4, slot_with(3, {0, 2}), rng);
  head.enable_spectral_norm(rng);
  EXPECT_EQ(head.describe(), "ProjectionHead(4, 3 classes, spectral_norm)");
  ASSERT_EQ(head.buffers().size(), 4u);
  EXPECT_EQ(head.buffers()[2]->shape(), (std::vector<int64_t>{3}));  // E's u: one entry per class
  EXPECT_EQ(head.buffers()[3]->shape(), (std::vector<int64_t>{4}));
  // Power iterations converge to σ(E): then the head's projection uses E/σ, of spectral norm 1.
  Tensor x({2, 4});
  for (int i = 0; i < 200; ++i) head.forward(x, Mode::train);
  Tensor e_only({2, 4}, {1, 0, 0, 0, 1, 0, 0, 0});
  const Tensor y = head.forward(e_only, Mode::eval);
  const Tensor& psi = head.psi().forward(e_only, Mode::eval);
  const double sigma = sigma_of(head.embedding().value);
  EXPECT_NEAR(y[0] - psi[0], head.embedding().value[0] / sigma, 1e-5);
  EXPECT_NEAR(y[1] - psi[1], head.embedding().value[2 * 4] / sigma, 1e-5);
  EXPECT_NEAR(head.psi().spectral_sigma(), sigma_of(head.psi().weight().value), 1e-5);
}

}  // namespace
}  // namespace gantry
