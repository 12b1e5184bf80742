// ragan: the relativistic average standard GAN, RaSGAN (Jolicoeur-Martineau 2018, "The relativistic
// discriminator"; her reference code, code/GAN_losses_iter.py, loss_D = 6). With m_r, m_f the
// batch means of D's real and fake logits:
//   D minimises softplus(−(r − m_f)) + softplus(f − m_r)
//   G minimises softplus(−(f − m_r)) + softplus(r − m_f), r from a fresh real batch
// Her code halves both losses, (a + b)/2; the paper's equations do not, nor does this plugin (a
// constant factor, which Adam all but cancels). The SDK derives the gradient through the means.
#include <gantry/loss.hpp>

namespace {

struct RaGan {
  template <class T> T d_real(T r, T mean_fake) const { return gantry::softplus(-(r - mean_fake)); }
  template <class T> T d_fake(T f, T mean_real) const { return gantry::softplus(f - mean_real); }
  template <class T> T g_fake(T f, T mean_real) const { return gantry::softplus(-(f - mean_real)); }
  template <class T> T g_real(T r, T mean_fake) const { return gantry::softplus(r - mean_fake); }
};

class RaGanLoss final : public gantry::RelativisticFormulaLoss<RaGan> {
 public:
  RaGanLoss(const gantry::Params&, const gantry::BuildContext&) {}
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::loss, "ragan", "1.0.0",
          "relativistic average standard GAN, RaSGAN (Jolicoeur-Martineau 2018)", {},
          gantry::factory_of<RaGanLoss>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
