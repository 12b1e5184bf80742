#include "support/grad_check.hpp"
#include "support/json.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::as_doubles;
using test::max_rel_error;
using test::tensor_of;

TEST(BatchNorm, MatchesPyTorchReference) {
  const test::Json ref = test::reference("batchnorm2d_train.json");
  BatchNorm bn(3, static_cast<float>(ref["momentum"].number), static_cast<float>(ref["eps"].number));
  bn.gamma().value = tensor_of(ref["gamma"]);
  bn.beta().value = tensor_of(ref["beta"]);
  const Tensor x = tensor_of(ref["x"]);
  const Tensor& y = bn.forward(x, Mode::train);
  EXPECT_LT(max_rel_error(as_doubles(y), ref["y"].numbers()), 1e-5);
  EXPECT_LT(max_rel_error(as_doubles(bn.running_mean()), ref["running_mean"].numbers()), 1e-6);
  EXPECT_LT(max_rel_error(as_doubles(bn.running_var()), ref["running_var"].numbers()), 1e-6);
  bn.zero_grad();
  const Tensor dx = bn.backward(tensor_of(ref["dy"]));
  EXPECT_LT(max_rel_error(as_doubles(dx), ref["dx"].numbers()), 1e-5);
  EXPECT_LT(max_rel_error(as_doubles(bn.gamma().gradient()), ref["dgamma"].numbers()), 1e-5);
  EXPECT_LT(max_rel_error(as_doubles(bn.beta().gradient()), ref["dbeta"].numbers()), 1e-5);
}

TEST(BatchNorm, EvaluationUsesRunningStatistics) {
  BatchNorm bn(2);
  Tensor x({4, 2}, {1, 10, 3, 20, 5, 30, 7, 40});
  bn.forward(x, Mode::train);  // mean (4, 25), unbiased var (20/3, 500/3)
  EXPECT_NEAR(bn.running_mean()[0], 0.4, 1e-6);
  EXPECT_NEAR(bn.running_var()[1], 0.9 + 0.1 * 500.0 / 3.0, 1e-4);
  Tensor one({1, 2}, {2, 5});
  const Tensor& y = bn.forward(one, Mode::eval);
  EXPECT_NEAR(y[0], (2 - 0.4) / std::sqrt(0.9 + 0.1 * 20.0 / 3.0 + 1e-5), 1e-5);
  EXPECT_NEAR(y[1], (5 - 2.5) / std::sqrt(0.9 + 0.1 * 500.0 / 3.0 + 1e-5), 1e-5);
  // Evaluation leaves the running statistics alone.
  EXPECT_NEAR(bn.running_mean()[0], 0.4, 1e-6);
}

TEST(BatchNorm, NormalisesEachChannelOverTheBatch) {
  for (int64_t channels : {3, 16}) {  // 16: oneDNN's blocked kernel behind reorders
    BatchNorm bn(channels);
    Tensor x({5, channels, 2, 2});
    Rng(4).fill_normal(x.values());
    for (int64_t i = 0; i < x.size(); ++i) x[i] = 3.0f * x[i] + 7.0f;
    const Tensor& y = bn.forward(x);
    for (int64_t c = 0; c < channels; ++c) {
      double s = 0, s2 = 0;
      for (int64_t n = 0; n < 5; ++n)
        for (int64_t k = 0; k < 4; ++k) {
          const double v = y[(n * channels + c) * 4 + k];
          s += v, s2 += v * v;
        }
      EXPECT_NEAR(s / 20, 0.0, 1e-5) << channels;
      EXPECT_NEAR(s2 / 20, 1.0, 1e-3) << channels;
    }
    // Evaluation: (x − running mean) / sqrt(running var + eps), channel by channel.
    const Tensor& e = bn.forward(x, Mode::eval);
    for (int64_t i = 0; i < x.size(); ++i) {
      const int64_t c = (i / 4) % channels;
      EXPECT_NEAR(e[i], (x[i] - bn.running_mean()[c]) / std::sqrt(bn.running_var()[c] + 1e-5f), 1e-4);
    }
  }
}

class BatchNormGradient : public ::testing::TestWithParam<std::vector<int64_t>> {};

TEST_P(BatchNormGradient, MatchesFiniteDifferences) {
  const std::vector<int64_t> shape = GetParam();
  BatchNorm bn(shape[1]);
  Rng rng(8);
  rng.fill_normal(bn.gamma().value.values());
  rng.fill_normal(bn.beta().value.values());
  Tensor x(shape);
  rng.fill_normal(x.values());
  test::check_layer_gradients(bn, x, 9);
}

INSTANTIATE_TEST_SUITE_P(Shapes, BatchNormGradient,
                         ::testing::Values(std::vector<int64_t>{4, 3}, std::vector<int64_t>{8, 5},
                                           std::vector<int64_t>{2, 3, 3, 3}, std::vector<int64_t>{3, 2, 4, 2},
                                           std::vector<int64_t>{2, 16, 3, 3}));

TEST(BatchNorm, CouplesTheBatchAndRefusesBadShapes) {
  BatchNorm bn(3);
  EXPECT_TRUE(bn.couples_batch());
  Sequential net;
  net.emplace<BatchNorm>(3);
  EXPECT_TRUE(net.couples_batch());
  EXPECT_EQ(net.buffers().size(), 2u);
  Tensor wrong({4, 2});
  EXPECT_THROW(bn.forward(wrong), Error);
  Tensor single({1, 3});
  EXPECT_THROW(bn.forward(single, Mode::train), Error);
  EXPECT_NO_THROW(bn.forward(single, Mode::eval));
}

}  // namespace
}  // namespace gantry
