// The resnet generator and discriminator plugins: the shapes they make and read at 28×28×1 and
// 32×32×3, what they refuse, and the critic's properties that the trainer and penalties rely on.
#include "support/grad_check.hpp"
#include "support/plugins.hpp"

#include <gantry/conditional.hpp>
#include <gantry/layers.hpp>
#include <gantry/model.hpp>
#include <gantry/penalty.hpp>

#include <cmath>
#include <gtest/gtest.h>

namespace gantry {
namespace {

std::unique_ptr<Generator> generator(const std::vector<int64_t>& sample, int64_t channels = 4, int64_t classes = 0,
                                     const std::string& condition = "batch_norm") {
  return test::make<Generator>(PluginKind::generator, "resnet",
                               {{"channels", channels}, {"latent_dim", int64_t{8}}, {"condition", condition}},
                               {sample, 3, classes});
}

std::unique_ptr<Discriminator> discriminator(const std::vector<int64_t>& sample, bool sn = true, int64_t classes = 0,
                                             int64_t pack = 1) {
  return test::make<Discriminator>(PluginKind::discriminator, "resnet",
                                   {{"channels", int64_t{4}}, {"spectral_norm", sn}, {"pack", pack}},
                                   {sample, 3, classes});
}

// Every layer of `net` of type L, looking inside Sequential containers and Residual blocks.
template <class L>
size_t count_layers(Layer& net) {
  if (auto* seq = dynamic_cast<Sequential*>(&net)) {
    size_t n = 0;
    for (size_t i = 0; i < seq->size(); ++i) n += count_layers<L>(seq->at(i));
    return n;
  }
  if (auto* block = dynamic_cast<Residual*>(&net))
    return count_layers<L>(block->main()) + (block->shortcut() ? count_layers<L>(*block->shortcut()) : 0);
  return dynamic_cast<L*>(&net) != nullptr;
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

// SNGAN's conditional ResNet G: conditional batch norm in every block, the final BN plain.
TEST(ResnetPlugins, AConditionalGeneratorHasConditionalBatchNormInItsBlocks) {
  auto g = generator({1, 28, 28}, 4, 10);
  ASSERT_NE(g->label_slot(), nullptr);
  EXPECT_EQ(g->label_slot()->classes(), 10);
  EXPECT_EQ(count_layers<ConditionalBatchNorm>(g->layer()), 4u);  // 2 blocks × 2
  EXPECT_EQ(count_layers<BatchNorm>(g->layer()), 1u);
  EXPECT_EQ(generator({1, 28, 28})->label_slot(), nullptr);
  // Every class starts at γ = 1, β = 0; give class 1 its own gain in the first block.
  auto& block = dynamic_cast<Residual&>(dynamic_cast<Sequential&>(g->layer()).at(2));
  auto& cbn = dynamic_cast<ConditionalBatchNorm&>(block.main().at(0));
  for (int64_t c = 0; c < 4; ++c) cbn.gamma().value[1 * 4 + c] = 2.0f;
  Tensor z({3, 8});
  Rng(4).fill_normal(z.values());
  auto draw = [&](std::vector<int32_t> labels) {
    g->label_slot()->set(labels);
    return test::as_doubles(g->layer().forward(z, Mode::eval));
  };
  const std::vector<double> a = draw({0, 3, 9}), b = draw({1, 3, 9});
  const size_t image = 28 * 28;
  EXPECT_EQ(a.size(), 3 * image);
  EXPECT_NE(std::vector<double>(a.begin(), a.begin() + image), std::vector<double>(b.begin(), b.begin() + image));
  EXPECT_EQ(std::vector<double>(a.begin() + image, a.end()), std::vector<double>(b.begin() + image, b.end()))
      << "samples keep their own labels' statistics in evaluation mode";
  auto concat = generator({3, 32, 32}, 4, 10, "concat");
  EXPECT_EQ(count_layers<ConditionalBatchNorm>(concat->layer()), 0u);
  EXPECT_NE(dynamic_cast<LabelConcat*>(&dynamic_cast<Sequential&>(concat->layer()).at(0)), nullptr);
}

// Miyato & Koyama's ResNet critic: the projection on the pooled features, spectral norm on ψ and E.
TEST(ResnetPlugins, AConditionalDiscriminatorProjectsThePooledFeatures) {
  auto d = discriminator({1, 28, 28}, true, 10);
  ASSERT_NE(d->label_slot(), nullptr);
  auto& net = dynamic_cast<Sequential&>(d->layer());
  auto* head = dynamic_cast<ProjectionHead*>(&net.at(net.size() - 1));
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->describe(), "ProjectionHead(4, 10 classes, spectral_norm)");
  EXPECT_EQ(d->layer().parameters().size(), 2u * 11u + 1u);  // … ψ's weight and bias, then E
  EXPECT_EQ(d->layer().buffers().size(), 2u * 12u);          // u and v of 10 convolutions, ψ and E
  EXPECT_TRUE(d->layer().supports_dual());
  Tensor real({3, 1, 28, 28});
  Rng(5).fill_normal(real.values());
  const std::vector<int32_t> labels{0, 1, 2};
  d->label_slot()->set(labels);
  Critic critic(d->layer());
  d->layer().zero_grad();
  EXPECT_TRUE(std::isfinite(r1_penalty(critic, real, 10.0)));
  EXPECT_GT(std::abs(head->embedding().gradient()[0]), 0.0f) << "the penalty reaches E";
}

TEST(ResnetPlugins, APackedDiscriminatorGivesOneLogitPerPack) {
  auto d = discriminator({3, 32, 32}, true, 0, 3);
  EXPECT_EQ(d->pack(), 3);
  Tensor x({6, 3, 32, 32});
  Rng(6).fill_normal(x.values());
  EXPECT_EQ(d->layer().forward(x, Mode::train).shape(), (std::vector<int64_t>{2, 1}));
  try {
    discriminator({3, 32, 32}, true, 10, 2);
    FAIL() << "no error";
  } catch (const SectionError& e) {
    EXPECT_STREQ(e.what(), "discriminator plugin 'resnet': pack > 1 does not combine with class conditioning (one "
                           "packed input holds samples of several classes)");
  }
}

}  // namespace
}  // namespace gantry
