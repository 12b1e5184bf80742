// wasserstein: the WGAN critic loss. D minimises mean f − mean r, G minimises −mean f. The critic
// is kept Lipschitz either by clipping every parameter to [−clip, clip] after each critic step
// (Arjovsky et al. 2017, mode = "clip") or by the gradient penalty λ·(‖∇x̂ D(x̂)‖ − 1)² on random
// interpolates of real and fake samples (Gulrajani et al. 2017, mode = "gp"). Both papers train
// the critic five times per generator step, which is this loss's default n_critic.
#include <gantry/loss.hpp>

#include <algorithm>

namespace {

struct Wasserstein {
  template <class T> T d_real(T r) const { return -r; }
  template <class T> T d_fake(T f) const { return f; }
  template <class T> T g_fake(T f) const { return -f; }
};

class WassersteinLoss final : public gantry::FormulaLoss<Wasserstein> {
 public:
  WassersteinLoss(const gantry::Params& p, const gantry::BuildContext&)
      : gp_(p.string("mode") == "gp"), clip_(static_cast<float>(p.real("clip"))), lambda_(p.real("lambda")) {}

  void after_discriminator_step(const std::vector<gantry::Parameter*>& params) override {
    if (gp_ || clip_ <= 0) return;
    for (gantry::Parameter* param : params)
      for (float& w : param->value.values()) w = std::clamp(w, -clip_, clip_);
  }

  double discriminator_penalty(gantry::PenaltyContext& ctx) override {
    if (!gp_ || lambda_ == 0) return 0;
    alpha_.resize(static_cast<size_t>(ctx.critic.inputs(ctx.real)));  // one per packed input
    ctx.rng.fill_uniform(alpha_, 0.0f, 1.0f);
    return gantry::gradient_penalty(ctx.critic, ctx.real, ctx.fake, alpha_, lambda_);
  }

  int64_t default_n_critic() const override { return 5; }

 private:
  bool gp_;
  float clip_;
  double lambda_;
  std::vector<float> alpha_;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::loss, "wasserstein", "1.1.0",
          "Wasserstein critic loss with weight clipping (WGAN) or gradient penalty (WGAN-GP); n_critic 5 by default",
          {gantry::string_param("mode", "clip", "how the critic is kept Lipschitz: weight clipping or gradient penalty",
                                {"clip", "gp"}),
           gantry::real_param("clip", 0.01, "mode clip: clip every critic parameter to [-clip, clip] after each critic step (0 = off)", 0.0, {}),
           gantry::real_param("lambda", 10.0, "mode gp: weight of the gradient penalty", 0.0, {})},
          gantry::factory_of<WassersteinLoss>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
