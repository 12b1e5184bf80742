// ralsgan: the relativistic average least-squares GAN (Jolicoeur-Martineau 2018, "The relativistic
// discriminator", RaLSGAN; her reference code, code/GAN_losses_iter.py, loss_D = 7). With m_r, m_f
// the batch means of D's real and fake logits:
//   D minimises (r − m_f − 1)² + (f − m_r + 1)²
//   G minimises (f − m_r − 1)² + (r − m_f + 1)², r from a fresh real batch
// Her code halves both losses, (a + b)/2; the paper's equations do not, nor does this plugin (a
// constant factor, which Adam all but cancels). The SDK derives the gradient through the means.
#include <gantry/loss.hpp>

namespace {

struct RaLsGan {
  template <class T> T d_real(T r, T mean_fake) const { return gantry::square(r - mean_fake - 1.0); }
  template <class T> T d_fake(T f, T mean_real) const { return gantry::square(f - mean_real + 1.0); }
  template <class T> T g_fake(T f, T mean_real) const { return gantry::square(f - mean_real - 1.0); }
  template <class T> T g_real(T r, T mean_fake) const { return gantry::square(r - mean_fake + 1.0); }
};

class RaLsGanLoss final : public gantry::RelativisticFormulaLoss<RaLsGan> {
 public:
  RaLsGanLoss(const gantry::Params&, const gantry::BuildContext&) {}
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::loss, "ralsgan", "1.0.0",
          "relativistic average least-squares GAN, RaLSGAN (Jolicoeur-Martineau 2018)", {},
          gantry::factory_of<RaLsGanLoss>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
