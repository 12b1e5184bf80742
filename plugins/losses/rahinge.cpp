// rahinge: the relativistic average hinge loss (Jolicoeur-Martineau 2018, "The relativistic
// discriminator", RaHingeGAN; her reference code, code/GAN_losses_iter.py, loss_D = 8). With m_r,
// m_f the batch means of D's real and fake logits:
//   D minimises relu(1 − (r − m_f)) + relu(1 + (f − m_r))
//   G minimises relu(1 − (f − m_r)) + relu(1 + (r − m_f)), r from a fresh real batch
// Her code halves both losses, (a + b)/2; the paper's equations do not, nor does this plugin (a
// constant factor, which Adam all but cancels). The SDK derives the gradient through the means.
#include <gantry/loss.hpp>

namespace {

struct RaHinge {
  template <class T> T d_real(T r, T mean_fake) const { return gantry::relu(1.0 - (r - mean_fake)); }
  template <class T> T d_fake(T f, T mean_real) const { return gantry::relu(1.0 + (f - mean_real)); }
  template <class T> T g_fake(T f, T mean_real) const { return gantry::relu(1.0 - (f - mean_real)); }
  template <class T> T g_real(T r, T mean_fake) const { return gantry::relu(1.0 + (r - mean_fake)); }
};

class RaHingeLoss final : public gantry::RelativisticFormulaLoss<RaHinge> {
 public:
  RaHingeLoss(const gantry::Params&, const gantry::BuildContext&) {}
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::loss, "rahinge", "1.0.0",
          "relativistic average hinge loss, RaHingeGAN (Jolicoeur-Martineau 2018)", {},
          gantry::factory_of<RaHingeLoss>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
