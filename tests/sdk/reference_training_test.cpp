// The reference classifier's reproducible training pass: the same gradients as the oneDNN layers
// (which have their own finite-difference and PyTorch tests), finite differences of its own loss,
// and the same weights at any thread count.
#include "reference_training.hpp"

#include "support/grad_check.hpp"

#include <gantry/classifier.hpp>
#include <gantry/error.hpp>
#include <gantry/fashion_mnist.hpp>
#include <gantry/layers.hpp>

#include <cmath>
#include <omp.h>
#include <gtest/gtest.h>

namespace gantry::detail {
namespace {

constexpr int64_t batch = 8;

struct Net {
  Sequential body, head;
  Net() {
    Rng init(3);
    body.emplace<Conv2d>(1, 32, 4, 2, 1, init);
    body.emplace<Eltwise>(Activation::relu);
    body.emplace<Conv2d>(32, 64, 4, 2, 1, init);
    body.emplace<Eltwise>(Activation::relu);
    body.add(make_flatten(64 * 7 * 7));
    body.emplace<Linear>(64 * 7 * 7, 128, init);
    body.emplace<Eltwise>(Activation::relu);
    head.emplace<Linear>(128, 10, init);
  }
  std::vector<Parameter*> parameters() {
    std::vector<Parameter*> p = body.parameters();
    for (Parameter* q : head.parameters()) p.push_back(q);
    return p;
  }
};

struct Batch {
  Tensor images{{batch, 1, 28, 28}};
  std::vector<uint8_t> labels;
  Batch() {
    Rng rng(4);
    for (float& v : images.values()) v = static_cast<float>(2 * rng.uniform() - 1);
    for (int64_t i = 0; i < batch; ++i) labels.push_back(static_cast<uint8_t>(rng.below(10)));
  }
};

// Mean cross-entropy through the oneDNN layers, in double from the logits on; fills `grad` when given.
double onednn_loss(Net& net, const Batch& b, Tensor* grad) {
  const Tensor& z = net.head.forward(net.body.forward(b.images));
  double total = 0;
  for (int64_t i = 0; i < batch; ++i) {
    double sum = 0;
    for (int64_t j = 0; j < 10; ++j) sum += std::exp(double(z[i * 10 + j]));
    total += std::log(sum) - z[i * 10 + b.labels[static_cast<size_t>(i)]];
    if (grad != nullptr)
      for (int64_t j = 0; j < 10; ++j)
        (*grad)[i * 10 + j] =
            static_cast<float>((std::exp(double(z[i * 10 + j])) / sum - (j == b.labels[static_cast<size_t>(i)])) / batch);
  }
  return total / batch;
}

// max |a − b| over the largest |b|: gradients are small numbers, so an absolute floor would hide errors.
double scaled_error(const Tensor& a, const Tensor& b) {
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < b.size(); ++i) {
    worst = std::max(worst, double(std::abs(a[i] - b[i])));
    scale = std::max(scale, double(std::abs(b[i])));
  }
  return worst / scale;
}

TEST(ReferenceTrainer, GivesTheOneDnnLayersLossAndGradients) {
  Net net;
  const Batch b;
  Tensor grad({batch, 10});
  const double expected = onednn_loss(net, b, &grad);
  for (Parameter* p : net.parameters()) p->zero_grad();
  net.body.backward(net.head.backward(grad));
  std::vector<Tensor> onednn;
  for (Parameter* p : net.parameters()) onednn.push_back(p->gradient());

  ReferenceTrainer trainer(net.parameters(), batch);
  for (Parameter* p : net.parameters()) p->zero_grad();
  EXPECT_NEAR(trainer.step(b.images.data(), b.labels.data()), expected, 1e-5);
  const auto params = net.parameters();
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_LT(scaled_error(params[i]->gradient(), onednn[i]), 1e-4) << "parameter " << i + 1;
}

// On the output layer, where the loss is smooth: deeper weights cross ReLU kinks at any step
// finite differences can resolve in float, and are covered by the comparison above.
TEST(ReferenceTrainer, GradientsMatchFiniteDifferencesOfItsOwnLoss) {
  Net net;
  const Batch b;
  ReferenceTrainer trainer(net.parameters(), batch);
  const auto params = net.parameters();
  auto loss = [&] {
    for (Parameter* p : params) p->zero_grad();
    return trainer.step(b.images.data(), b.labels.data());
  };
  loss();
  const Tensor weight = params[6]->gradient(), bias = params[7]->gradient();
  const auto numeric_weight = test::numeric_gradient(params[6]->value.values().first(64), loss, 1e-2f);
  const auto numeric_bias = test::numeric_gradient(params[7]->value.values(), loss, 1e-2f);
  for (size_t i = 0; i < numeric_weight.size(); ++i)
    EXPECT_NEAR(weight[static_cast<int64_t>(i)], numeric_weight[i], 1e-4) << "output weight " << i;
  for (size_t i = 0; i < numeric_bias.size(); ++i)
    EXPECT_NEAR(bias[static_cast<int64_t>(i)], numeric_bias[i], 1e-4) << "output bias " << i;
}

TEST(ReferenceTrainer, RefusesParametersOfAnotherShape) {
  Rng init(1);
  Linear wrong(3, 2, init);
  EXPECT_THROW(
      {
        try {
          ReferenceTrainer(wrong.parameters(), batch);
        } catch (const Error& e) {
          EXPECT_STREQ(e.what(), "the reference trainer needs the classifier's eight parameters");
          throw;
        }
      },
      Error);
}

TEST(ExactExp, AgreesWithLibmToTheLastBitsAndUnderflowsToZero) {
  EXPECT_EQ(exact_exp(0.0), 1.0);
  EXPECT_EQ(exact_exp(-800.0), 0.0);
  for (double x = -700; x <= 20; x += 0.37)  // normal results; below, ldexp rounds to subnormals
    EXPECT_NEAR(exact_exp(x), std::exp(x), 4e-16 * std::exp(x)) << "x = " << x;
}

TEST(ReferenceClassifier, WeightsAreTheSameBitsOnOneAndTwoThreads) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::string one = ReferenceClassifier::weights_after(default_fashion_mnist_dir(), 12);
  omp_set_num_threads(2);
  const std::string two = ReferenceClassifier::weights_after(default_fashion_mnist_dir(), 12);
  omp_set_num_threads(before);
  EXPECT_EQ(one, two);
  EXPECT_EQ(one.size(), 64u);
}

}  // namespace
}  // namespace gantry::detail
