// The resnet generator and discriminator plugins: the shapes they make and read at 28×28×1 and
// 32×32×3, what they refuse, and the critic's properties that the trainer and penalties rely on.
#include "support/plugins.hpp"

#include <gantry/layers.hpp>
#include <gantry/model.hpp>
#include <gantry/penalty.hpp>

#include <cmath>
#include <gtest/gtest.h>

namespace gantry {
namespace {

std::unique_ptr<Generator> generator(const std::vector<int64_t>& sample, int64_t channels = 4) {
  return test::make<Generator>(PluginKind::generator, "resnet", {{"channels", channels}, {"latent_dim", int64_t{8}}},
                               {sample, 3});
}

std::unique_ptr<Discriminator> discriminator(const std::vector<int64_t>& sample, bool sn = true) {
  return test::make<Discriminator>(PluginKind::discriminator, "resnet", {{"channels", int64_t{4}}, {"spectral_norm", sn}},
                                   {sample, 3});
}

class ResnetPlugins : public ::testing::TestWithParam<std::vector<int64_t>> {};

TEST_P(ResnetPlugins, GeneratorMakesTheDataShapeAndDiscriminatorReadsIt) {
  const std::vector<int64_t> sample = GetParam();
  auto g = generator(sample);
  auto d = discriminator(sample);
  Tensor z({5, g->latent_dim()});
  Rng(1).fill_normal(z.values());
  const Tensor& x = g->layer().forward(z, Mode::train);
  EXPECT_EQ(x.shape(), (std::vector<int64_t>{5, sample[0], sample[1], sample[2]}));
  for (float v : x.values()) ASSERT_TRUE(std::abs(v) <= 1.0f);  // tanh
  const Tensor& logits = d->layer().forward(x, Mode::train);
  EXPECT_EQ(logits.shape(), (std::vector<int64_t>{5, 1}));
  for (float v : logits.values()) EXPECT_TRUE(std::isfinite(v));
}

INSTANTIATE_TEST_SUITE_P(Sizes, ResnetPlugins,
                         ::testing::Values(std::vector<int64_t>{1, 28, 28}, std::vector<int64_t>{3, 32, 32}));

// 28×28: Linear to 7×7, two up blocks; 32×32: 4×4, three. Each block: 2 BN + 3 conv.
TEST(ResnetPlugins, GeneratorHasTwoOrThreeUpBlocks) {
  auto count_blocks = [](Generator& g) {
    auto& net = dynamic_cast<Sequential&>(g.layer());
    size_t blocks = 0;
    for (size_t i = 0; i < net.size(); ++i) blocks += dynamic_cast<Residual*>(&net.at(i)) != nullptr;
    return blocks;
  };
  EXPECT_EQ(count_blocks(*generator({1, 28, 28})), 2u);
  EXPECT_EQ(count_blocks(*generator({3, 32, 32})), 3u);
  auto g = generator({1, 28, 28});
  EXPECT_EQ(dynamic_cast<Linear&>(dynamic_cast<Sequential&>(g->layer()).at(0)).weight().value.shape(),
            (std::vector<int64_t>{4 * 7 * 7, 8}));
  EXPECT_TRUE(g->layer().couples_batch());
}

TEST(ResnetPlugins, DiscriminatorIsSpectrallyNormalisedByDefaultAndSupportsPenalties) {
  auto d = discriminator({1, 28, 28});
  // 3 + 3 + 2 + 2 convolutions and the Linear, u and v each.
  EXPECT_EQ(d->layer().buffers().size(), 2u * 11u);
  EXPECT_EQ(d->layer().parameters().size(), 2u * 11u);
  EXPECT_FALSE(d->layer().couples_batch());
  EXPECT_TRUE(d->layer().supports_dual());
  EXPECT_EQ(discriminator({1, 28, 28}, false)->layer().buffers().size(), 0u);
  Critic critic(d->layer());
  Tensor real({3, 1, 28, 28});
  Rng(2).fill_normal(real.values());
  d->layer().zero_grad();
  EXPECT_TRUE(std::isfinite(r1_penalty(critic, real, 10.0)));
}

// The host prefixes the plugin's message with its kind and name (SectionError, located in the
// experiment file by preflight: tests/host/run/preflight_test.cpp).
TEST(ResnetPlugins, RefuseSizesTheyCannotMake) {
  try {
    generator({1, 30, 30});
    FAIL() << "no error";
  } catch (const SectionError& e) {
    EXPECT_STREQ(e.what(), "generator plugin 'resnet': generator 'resnet' makes images [C, 28, 28] or [C, 32, 32]; "
                           "the data has samples [1, 30, 30]");
  }
  try {
    discriminator({2});
    FAIL() << "no error";
  } catch (const SectionError& e) {
    EXPECT_STREQ(e.what(), "discriminator plugin 'resnet': discriminator 'resnet' reads images [C, H, W] with H and W "
                           "multiples of 4 (two 2×2 poolings); the data has samples [2]");
  }
}

}  // namespace
}  // namespace gantry
