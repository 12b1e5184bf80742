// nonsaturating: the minimax D loss with G maximising log σ(f) instead (Goodfellow et al. 2014,
// section 3), which keeps G's gradient alive when D rejects its samples confidently.
#include <gantry/loss.hpp>

namespace {

struct NonSaturating {
  template <class T> T d_real(T r) const { return gantry::softplus(-r); }
  template <class T> T d_fake(T f) const { return gantry::softplus(f); }
  template <class T> T g_fake(T f) const { return gantry::softplus(-f); }
};

class NonSaturatingLoss final : public gantry::FormulaLoss<NonSaturating> {
 public:
  NonSaturatingLoss(const gantry::Params&, const gantry::BuildContext&) {}
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::loss, "nonsaturating", "1.0.0",
          "non-saturating GAN loss (G minimises -log D(G(z)))", {},
          gantry::factory_of<NonSaturatingLoss>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
