// Class-conditional layers: against PyTorch in float64 (conditional.json from
// make_conditional.py), against finite differences over several shapes, and the label slot's errors.
#include "support/grad_check.hpp"
#include "support/json.hpp"

#include <gantry/conditional.hpp>
#include <gantry/error.hpp>

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
  auto slot = std::make_shared<LabelSlot>(4);
  const std::vector<int32_t> labels{1, 2};
  slot->set(labels);
  Rng rng(1);
  ProjectionHead head(3, slot, rng);
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

TEST(ConditionalPenalty, TheCriticsRefusalNamesTheProjectionHead) {
  auto slot = std::make_shared<LabelSlot>(2);
  Sequential d;
  Rng rng(4);
  d.emplace<Linear>(2, 3, rng);
  d.emplace<ProjectionHead>(3, slot, rng);
  EXPECT_FALSE(d.supports_dual());
  try {
    d.forward_dual(Tensor({1, 2}), Tensor({1, 2}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "layer ProjectionHead(3, 2 classes) has no dual mode (forward_dual/backward_dual), which "
                           "exact gradient penalties need from every layer of the critic");
  }
}

}  // namespace
}  // namespace gantry
