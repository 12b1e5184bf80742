// wasserstein: the WGAN critic loss (Arjovsky et al. 2017). D minimises mean f − mean r, G
// minimises −mean f; the critic is kept Lipschitz by clipping every parameter to [−clip, clip]
// after each critic step. Use it with train.n_critic = 5 as the paper does.
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
      : clip_(static_cast<float>(p.real("clip"))) {}
  void after_discriminator_step(const std::vector<gantry::Parameter*>& params) override {
    if (clip_ <= 0) return;
    for (gantry::Parameter* param : params)
      for (float& w : param->value.values()) w = std::clamp(w, -clip_, clip_);
  }

 private:
  float clip_;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::loss, "wasserstein", "1.0.0",
          "Wasserstein critic loss with weight clipping (WGAN); pair with train.n_critic = 5",
          {gantry::real_param("clip", 0.01, "clip every critic parameter to [-clip, clip] after each critic step (0 = off)", 0.0, {})},
          gantry::factory_of<WassersteinLoss>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
