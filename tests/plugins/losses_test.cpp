// Every built-in loss: against PyTorch's float64 values, against finite differences, and the sign
// convention (D's loss falls when real logits rise and fake logits fall).
#include "support/grad_check.hpp"
#include "support/json.hpp"
#include "support/plugins.hpp"

#include <gantry/loss.hpp>
#include <gantry/model.hpp>
#include <gantry/optimizer.hpp>
#include <gantry/random.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

std::vector<float> floats(const std::vector<double>& v) { return {v.begin(), v.end()}; }

class BuiltinLoss : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Loss> loss = test::make<Loss>(PluginKind::loss, GetParam());
};

TEST_P(BuiltinLoss, MatchesPyTorchReference) {
  const auto ref = test::reference("losses.json");
  const auto& expect = ref[GetParam()];
  const auto real = floats(ref["real_logits"].numbers()), fake = floats(ref["fake_logits"].numbers());
  std::vector<float> gr(real.size()), gf(fake.size());
  const double d = loss->discriminator_loss(real, fake, gr, gf);
  EXPECT_NEAR(d, expect["d_loss"].number, 1e-5 * std::max(1.0, std::abs(expect["d_loss"].number)));
  EXPECT_LT(test::max_rel_error({gr.begin(), gr.end()}, expect["d_grad_real"].numbers()), 1e-6);
  EXPECT_LT(test::max_rel_error({gf.begin(), gf.end()}, expect["d_grad_fake"].numbers()), 1e-6);
  const double g = loss->generator_loss(fake, gf);
  EXPECT_NEAR(g, expect["g_loss"].number, 1e-5 * std::max(1.0, std::abs(expect["g_loss"].number)));
  EXPECT_LT(test::max_rel_error({gf.begin(), gf.end()}, expect["g_grad_fake"].numbers()), 1e-6);
}

TEST_P(BuiltinLoss, GradientsMatchFiniteDifferences) {
  Rng rng(31);
  for (int64_t n : {1, 5, 64}) {
    std::vector<float> real(static_cast<size_t>(n)), fake(static_cast<size_t>(n)), gr(real.size()), gf(fake.size());
    rng.fill_normal(real, 0.0f, 3.0f);
    rng.fill_normal(fake, 0.0f, 3.0f);
    loss->discriminator_loss(real, fake, gr, gf);
    const std::vector<double> ar(gr.begin(), gr.end()), af(gf.begin(), gf.end());
    std::vector<float> sr(real.size()), sf(fake.size());
    auto d_of = [&] { return loss->discriminator_loss(real, fake, sr, sf); };
    EXPECT_LT(test::max_rel_error(ar, test::numeric_gradient(real, d_of, 1e-2f)), 1e-4) << "n=" << n;
    EXPECT_LT(test::max_rel_error(af, test::numeric_gradient(fake, d_of, 1e-2f)), 1e-4) << "n=" << n;
    loss->generator_loss(fake, gf);
    const std::vector<double> ag(gf.begin(), gf.end());
    auto g_of = [&] { return loss->generator_loss(fake, sf); };
    EXPECT_LT(test::max_rel_error(ag, test::numeric_gradient(fake, g_of, 1e-2f)), 1e-4) << "n=" << n;
  }
}

TEST_P(BuiltinLoss, FiniteForLargeLogitsAndSignConvention) {
  const std::vector<float> big{-500.0f, -60.0f, 60.0f, 500.0f};
  std::vector<float> gr(4), gf(4);
  EXPECT_TRUE(std::isfinite(loss->discriminator_loss(big, big, gr, gf)));
  EXPECT_TRUE(std::isfinite(loss->generator_loss(big, gf)));
  for (float g : gr) EXPECT_TRUE(std::isfinite(g));
  const std::vector<float> real{0.5f, -0.5f}, fake{0.3f, -0.2f}, better_real{1.5f, 0.5f}, better_fake{-0.7f, -1.2f};
  std::vector<float> a(2), b(2);
  const double base = loss->discriminator_loss(real, fake, a, b);
  EXPECT_LT(loss->discriminator_loss(better_real, better_fake, a, b), base);
  EXPECT_GT(loss->generator_loss(better_fake, a), loss->generator_loss(fake, b));
}

INSTANTIATE_TEST_SUITE_P(All, BuiltinLoss,
                         ::testing::Values("minimax", "nonsaturating", "wasserstein", "hinge", "least_squares"));

TEST(Wasserstein, ClipsEveryCriticParameter) {
  auto loss = test::make<Loss>(PluginKind::loss, "wasserstein", {{"clip", 0.05}});
  Parameter w("w", Tensor({4}, {-1.0f, -0.01f, 0.02f, 3.0f}));
  loss->after_discriminator_step({&w});
  EXPECT_EQ(w.value[0], -0.05f);
  EXPECT_EQ(w.value[1], -0.01f);
  EXPECT_EQ(w.value[2], 0.02f);
  EXPECT_EQ(w.value[3], 0.05f);
}

TEST(Wasserstein, ClipsTheCriticsWeightsAfterADiscriminatorStep) {
  // A real critic step as the trainer runs it (one batch of real and fake rows, Adam, then the
  // loss's hook): every weight must end in [-clip, clip], and the step must have needed it.
  const float clip = 0.01f;
  auto loss = test::make<Loss>(PluginKind::loss, "wasserstein", {{"clip", static_cast<double>(clip)}});
  auto disc = test::make<Discriminator>(PluginKind::discriminator, "mlp");
  Layer& d = disc->layer();
  const int64_t batch = 64;
  Tensor both({2 * batch, 2}), dy({2 * batch, 1});
  Rng rng(3);
  rng.fill_normal(both.values());
  Adam adam(d.parameters(), {1e-2, 0.5, 0.999, 1e-8});
  adam.zero_grad();
  const Tensor& logits = d.forward(both);
  const auto l = logits.values();
  const auto g = dy.values();
  loss->discriminator_loss(l.first(batch), l.last(batch), g.first(batch), g.last(batch));
  d.backward(dy, {.input_grad = false, .weight_grad = true});
  adam.step();
  int64_t outside = 0, total = 0;
  for (Parameter* p : d.parameters())
    for (float w : p->value.values()) outside += std::abs(w) > clip, ++total;
  ASSERT_GT(outside, 0);
  loss->after_discriminator_step(d.parameters());
  int64_t at_bound = 0;
  for (Parameter* p : d.parameters())
    for (float w : p->value.values()) {
      ASSERT_LE(std::abs(w), clip) << p->name;
      at_bound += std::abs(w) == clip;
    }
  EXPECT_EQ(at_bound, outside) << "of " << total << " weights";
}

}  // namespace
}  // namespace gantry
