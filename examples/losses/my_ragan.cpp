#include <gantry/loss.hpp>

namespace {

struct RaGan {
  template <class T> T d_real(T r, T mean_fake) const { return gantry::softplus(-(r - mean_fake)); }  // D, real logit r
  template <class T> T d_fake(T f, T mean_real) const { return gantry::softplus(f - mean_real); }     // D, fake logit f
  template <class T> T g_fake(T f, T mean_real) const { return gantry::softplus(-(f - mean_real)); }  // G, fake logit f
  template <class T> T g_real(T r, T mean_fake) const { return gantry::softplus(r - mean_fake); }     // G, real logit r
};

class RaGanLoss final : public gantry::RelativisticFormulaLoss<RaGan> {
 public:
  RaGanLoss(const gantry::Params&, const gantry::BuildContext&) {}
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::loss, "my_ragan", "0.1.0", "RaGAN written as a formula", {},
          gantry::factory_of<RaGanLoss>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
