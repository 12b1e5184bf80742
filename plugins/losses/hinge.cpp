// hinge: the hinge loss of Lim & Ye 2017 and Miyato et al. 2018 (SN-GAN).
//   D minimises relu(1 − r) + relu(1 + f);   G minimises −f
#include <gantry/loss.hpp>

namespace {

struct Hinge {
  template <class T> T d_real(T r) const { return gantry::relu(1.0 - r); }
  template <class T> T d_fake(T f) const { return gantry::relu(1.0 + f); }
  template <class T> T g_fake(T f) const { return -f; }
};

class HingeLoss final : public gantry::FormulaLoss<Hinge> {
 public:
  HingeLoss(const gantry::Params&, const gantry::BuildContext&) {}
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::loss, "hinge", "1.0.0", "hinge loss (Lim & Ye 2017; Miyato et al. 2018)", {},
          gantry::factory_of<HingeLoss>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
