#include "support/grad_check.hpp"

#include <gantry/layers.hpp>

#include <cmath>
#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(Sequential, MlpGradientsMatchFiniteDifferences) {
  Rng rng(21);
  MlpSpec spec;
  spec.in = 3, spec.width = 6, spec.depth = 2, spec.out = 2;
  spec.activation = Activation::tanh;
  spec.output_activation = Activation::sigmoid;
  auto net = make_mlp(spec, rng);
  EXPECT_EQ(net->describe(), "Linear(3, 6) - Tanh - Linear(6, 6) - Tanh - Linear(6, 2) - Sigmoid");
  Tensor x({5, 3});
  rng.fill_normal(x.values());
  test::check_layer_gradients(*net, x, 22, 1e-3f, 5e-3);
}

TEST(Sequential, LeakyMlpGradientsMatchFiniteDifferences) {
  Rng rng(23);
  MlpSpec spec;
  spec.in = 2, spec.width = 8, spec.depth = 3, spec.out = 1;
  spec.activation = Activation::leaky_relu;
  auto net = make_mlp(spec, rng);
  Tensor x({4, 2});
  rng.fill_normal(x.values());
  test::check_layer_gradients(*net, x, 24, 1e-3f, 1e-2);
}

TEST(Sequential, InputGradientOnlyLeavesWeightsUntouched) {
  Rng rng(25);
  MlpSpec spec;
  spec.in = 2, spec.width = 4, spec.depth = 1, spec.out = 1;
  auto net = make_mlp(spec, rng);
  Tensor x({3, 2}), dy({3, 1});
  dy.fill(1.0f);
  net->zero_grad();
  net->forward(x);
  const Tensor& dx = net->backward(dy, {.input_grad = true, .weight_grad = false});
  EXPECT_EQ(dx.size(), 6);
  for (Parameter* p : net->parameters()) EXPECT_TRUE(p->grad_is_zero()) << p->name;
}

// PacGAN's critic as make_mlp builds it: LinearMaxout hidden layers, weights N(0, 0.02²), biases 0.
TEST(MakeMlp, MaxoutLayersAndANormalInit) {
  Rng rng(7);
  MlpSpec spec;
  spec.in = 4;
  spec.width = 200;
  spec.depth = 3;
  spec.maxout_pieces = 5;
  spec.init_std = 0.02f;
  auto net = make_mlp(spec, rng);
  EXPECT_EQ(net->describe(), "Linear(4, 1000) - Maxout(5) - Linear(200, 1000) - Maxout(5) - Linear(200, 1000) - "
                             "Maxout(5) - Linear(200, 1)");
  double sum = 0, squares = 0;
  int64_t n = 0;
  for (Parameter* p : net->parameters()) {
    if (p->name == "bias") {
      for (float b : p->value.values()) EXPECT_EQ(b, 0.0f);
      continue;
    }
    for (float w : p->value.values()) sum += w, squares += static_cast<double>(w) * w, ++n;
  }
  EXPECT_EQ(n, 4 * 1000 + 2 * 200 * 1000 + 200);
  EXPECT_NEAR(sum / static_cast<double>(n), 0.0, 1e-4);
  EXPECT_NEAR(std::sqrt(squares / static_cast<double>(n)), 0.02, 2e-4);  // 404,200 draws
}

}  // namespace
}  // namespace gantry
