// Every built-in loss: against PyTorch's float64 values, against finite differences, and the sign
// convention (D's loss falls when real logits rise and fake logits fall). The relativistic losses'
// references (relativistic_losses.json) give G its own real batch, as the trainer does.
#include "support/grad_check.hpp"
#include "support/json.hpp"
#include "support/plugins.hpp"

#include <gantry/loss.hpp>
#include <gantry/model.hpp>
#include <gantry/optimizer.hpp>
#include <gantry/random.hpp>

#include <functional>
#include <gtest/gtest.h>
#include <limits>

namespace gantry {
namespace {

std::vector<float> floats(const std::vector<double>& v) { return {v.begin(), v.end()}; }

// Central differences at steps 1e-2 and 1e-3 (the steps as float rounds them), per logit the one
// nearer `analytic`: a hinge's kink within one step of a term's argument spoils one of them, and a
// relativistic loss has many more arguments (every term moves with the means); a wrong derivative
// misses at both.
std::vector<double> numeric_gradient_near(std::vector<float>& x, const std::vector<double>& analytic,
                                          const std::function<double()>& f) {
  std::vector<double> best(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const float saved = x[i];
    double nearest = std::numeric_limits<double>::infinity();
    for (float h : {1e-2f, 1e-3f}) {
      const float up = saved + h, down = saved - h;
      x[i] = up;
      const double f_up = f();
      x[i] = down;
      const double f_down = f();
      const double numeric = (f_up - f_down) / (static_cast<double>(up) - static_cast<double>(down));
      if (std::abs(numeric - analytic[i]) < nearest) nearest = std::abs(numeric - analytic[i]), best[i] = numeric;
    }
    x[i] = saved;
  }
  return best;
}

class BuiltinLoss : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Loss> loss = test::make<Loss>(PluginKind::loss, GetParam());
};

TEST_P(BuiltinLoss, MatchesPyTorchReference) {
  const bool relativistic = loss->uses_real_logits_in_generator_step();
  const auto ref = test::reference(relativistic ? "relativistic_losses.json" : "losses.json");
  const auto& expect = ref[GetParam()];
  const auto real = floats(ref["real_logits"].numbers()), fake = floats(ref["fake_logits"].numbers());
  const auto g_real = relativistic ? floats(ref["g_real_logits"].numbers()) : std::vector<float>{};
  std::vector<float> gr(real.size()), gf(fake.size());
  const double d = loss->discriminator_loss(real, fake, gr, gf);
  EXPECT_NEAR(d, expect["d_loss"].number, 1e-5 * std::max(1.0, std::abs(expect["d_loss"].number)));
  EXPECT_LT(test::max_rel_error({gr.begin(), gr.end()}, expect["d_grad_real"].numbers()), 1e-6);
  EXPECT_LT(test::max_rel_error({gf.begin(), gf.end()}, expect["d_grad_fake"].numbers()), 1e-6);
  const double g = loss->generator_loss(g_real, fake, gf);
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
    EXPECT_LT(test::max_rel_error(ar, numeric_gradient_near(real, ar, d_of)), 1e-4) << "n=" << n;
    EXPECT_LT(test::max_rel_error(af, numeric_gradient_near(fake, af, d_of)), 1e-4) << "n=" << n;
    // G's real logits are constants: the gradient is with respect to the fake ones only.
    loss->generator_loss(real, fake, gf);
    const std::vector<double> ag(gf.begin(), gf.end());
    auto g_of = [&] { return loss->generator_loss(real, fake, sf); };
    EXPECT_LT(test::max_rel_error(ag, numeric_gradient_near(fake, ag, g_of)), 1e-4) << "n=" << n;
  }
}

TEST_P(BuiltinLoss, FiniteForLargeLogitsAndSignConvention) {
  const std::vector<float> big{-500.0f, -60.0f, 60.0f, 500.0f};
  std::vector<float> gr(4), gf(4);
  EXPECT_TRUE(std::isfinite(loss->discriminator_loss(big, big, gr, gf)));
  EXPECT_TRUE(std::isfinite(loss->generator_loss(big, big, gf)));
  for (float g : gr) EXPECT_TRUE(std::isfinite(g));
  for (float g : gf) EXPECT_TRUE(std::isfinite(g));
  const std::vector<float> real{0.5f, -0.5f}, fake{0.3f, -0.2f}, better_real{1.5f, 0.5f}, better_fake{-0.7f, -1.2f};
  std::vector<float> a(2), b(2);
  const double base = loss->discriminator_loss(real, fake, a, b);
  EXPECT_LT(loss->discriminator_loss(better_real, better_fake, a, b), base);
  EXPECT_GT(loss->generator_loss(real, better_fake, a), loss->generator_loss(real, fake, b));
}

INSTANTIATE_TEST_SUITE_P(All, BuiltinLoss,
                         ::testing::Values("minimax", "nonsaturating", "wasserstein", "hinge", "least_squares", "rsgan",
                                           "ragan", "ralsgan", "rahinge"));

TEST(RelativisticLosses, OnlyTheyMakeTheTrainerEvaluateDOnARealBatchInTheGStep) {
  for (const char* name : {"minimax", "nonsaturating", "wasserstein", "hinge", "least_squares"})
    EXPECT_FALSE(test::make<Loss>(PluginKind::loss, name)->uses_real_logits_in_generator_step()) << name;
  for (const char* name : {"rsgan", "ragan", "ralsgan", "rahinge"})
    EXPECT_TRUE(test::make<Loss>(PluginKind::loss, name)->uses_real_logits_in_generator_step()) << name;
}

TEST(RelativisticLosses, GsGradientCouplesEveryFakeLogitThroughTheMeans) {
  // RaGAN's G loss has a term on the real logits alone, softplus(r − mean f): it reaches every fake
  // logit through mean f, so raising one real logit changes the gradient of every fake logit.
  auto loss = test::make<Loss>(PluginKind::loss, "ragan");
  const std::vector<float> real{0.5f, -1.0f, 2.0f}, raised{0.5f, -1.0f, 4.0f}, fake{0.25f, 1.5f, -0.75f};
  std::vector<float> a(3), b(3);
  loss->generator_loss(real, fake, a);
  loss->generator_loss(raised, fake, b);
  for (size_t j = 0; j < 3; ++j) EXPECT_NE(a[j], b[j]) << j;
}

TEST(RelativisticLosses, RefuseAGeneratorStepWithoutRealLogits) {
  std::vector<float> fake{0.5f, -0.5f}, gf(2);
  for (const char* name : {"rsgan", "ragan"})
    EXPECT_THROW(test::make<Loss>(PluginKind::loss, name)->generator_loss({}, fake, gf), PluginError) << name;
}

TEST(RelativisticLosses, RsganPairsRealAndFakeByIndex) {
  auto loss = test::make<Loss>(PluginKind::loss, "rsgan");
  const std::vector<float> real{1.0f, 2.0f, 3.0f}, fake{0.5f, -0.5f};
  std::vector<float> gr(3), gf(3);
  try {
    loss->discriminator_loss(real, fake, gr, std::span<float>(gf).first(2));
    FAIL();
  } catch (const PluginError& e) {
    EXPECT_STREQ(e.what(), "rsgan pairs real and fake logits by index: got 3 real and 2 fake");
  }
  // softplus(−(r − f)) for the pairs (2, 2) and (0, 1): (log 2 + softplus(1)) / 2.
  const std::vector<float> r2{2.0f, 0.0f}, f2{2.0f, 1.0f};
  EXPECT_DOUBLE_EQ(loss->discriminator_loss(r2, f2, gr, gf), (std::log(2.0) + softplus(1.0)) / 2);
  EXPECT_FLOAT_EQ(gr[0], -0.25f);
  EXPECT_FLOAT_EQ(gf[0], 0.25f);
  EXPECT_FLOAT_EQ(gr[1], static_cast<float>(-sigmoid(1.0) / 2));
}

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
