// minimax: the saturating min-max game of Goodfellow et al. 2014, on logits.
//   D minimises −log σ(r) − log(1 − σ(f)) = softplus(−r) + softplus(f)
//   G minimises  log(1 − σ(f))            = −softplus(f)
#include <gantry/loss.hpp>

namespace {

struct Minimax {
  template <class T> T d_real(T r) const { return gantry::softplus(-r); }
  template <class T> T d_fake(T f) const { return gantry::softplus(f); }
  template <class T> T g_fake(T f) const { return -gantry::softplus(f); }
};

class MinimaxLoss final : public gantry::FormulaLoss<Minimax> {
 public:
  MinimaxLoss(const gantry::Params&, const gantry::BuildContext&) {}
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::loss, "minimax", "1.0.0",
          "saturating min-max loss of the original GAN paper (G minimises log(1 - D(G(z))))", {},
          gantry::factory_of<MinimaxLoss>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
