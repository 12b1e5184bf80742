// nonsaturating: the minimax D loss with G maximising log σ(f) instead (Goodfellow et al. 2014,
// section 3), which keeps G's gradient alive when D rejects its samples confidently. Optionally
// with DRAGAN's penalty (Kodali et al. 2017, who pair it with this loss): λ·(‖∇D(x̃)‖ − 1)² at
// random perturbations x̃ of the real samples (gantry::dragan_penalty).
#include <gantry/loss.hpp>
#include <gantry/penalty.hpp>

namespace {

struct NonSaturating {
  template <class T> T d_real(T r) const { return gantry::softplus(-r); }
  template <class T> T d_fake(T f) const { return gantry::softplus(f); }
  template <class T> T g_fake(T f) const { return gantry::softplus(-f); }
};

class NonSaturatingLoss final : public gantry::FormulaLoss<NonSaturating> {
 public:
  NonSaturatingLoss(const gantry::Params& p, const gantry::BuildContext&) : dragan_(p.real("dragan")) {}

  double discriminator_penalty(gantry::PenaltyContext& ctx) override {
    return dragan_ > 0 ? gantry::dragan_penalty(ctx.critic, ctx.real, ctx.rng, dragan_) : 0.0;
  }

 private:
  double dragan_;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::loss, "nonsaturating", "1.1.0",
          "non-saturating GAN loss (G minimises -log D(G(z))), optionally with the DRAGAN penalty",
          {gantry::real_param("dragan", 0.0,
                              "weight λ of the DRAGAN penalty λ·(‖∇D(x̃)‖ − 1)² around the real data (Kodali et al. "
                              "2017 use 10; 0 = off)",
                              0.0, {})},
          gantry::factory_of<NonSaturatingLoss>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
