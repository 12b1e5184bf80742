// rsgan: the relativistic standard GAN (Jolicoeur-Martineau 2018, "The relativistic discriminator:
// a key element missing from standard GAN", its RSGAN losses, with real and fake samples paired by
// index as in her reference code, code/GAN_losses_iter.py, loss_D = 5):
//   D minimises softplus(−(r_i − f_i))   (BCEWithLogits(r − f, 1))
//   G minimises softplus(−(f_i − r_i))   (BCEWithLogits(f − r, 1)), r from a fresh real batch
// Each term couples one real and one fake logit, so this is a direct gantry::Loss, not a formula.
#include <gantry/loss.hpp>

#include <fmt/format.h>

namespace {

class RsganLoss final : public gantry::Loss {
 public:
  RsganLoss(const gantry::Params&, const gantry::BuildContext&) {}

  double discriminator_loss(std::span<const float> real, std::span<const float> fake, std::span<float> grad_real,
                            std::span<float> grad_fake) override {
    require_pairs(real, fake);
    return paired(real, fake, grad_real, grad_fake);
  }
  double generator_loss(std::span<const float> real, std::span<const float> fake,
                        std::span<float> grad_fake) override {
    require_pairs(real, fake);
    return paired(fake, real, grad_fake, {});  // the real logits are constants for G
  }
  bool uses_real_logits_in_generator_step() const override { return true; }

 private:
  static void require_pairs(std::span<const float> real, std::span<const float> fake) {
    if (real.size() != fake.size())
      throw gantry::PluginError(fmt::format("rsgan pairs real and fake logits by index: got {} real and {} fake",
                                            real.size(), fake.size()));
  }
  // mean_i softplus(−(a_i − b_i)); the derivative of a term with respect to a_i is the opposite
  // of that with respect to b_i. grad_b may be empty (no gradient wanted).
  static double paired(std::span<const float> a, std::span<const float> b, std::span<float> grad_a,
                       std::span<float> grad_b) {
    const double inv_n = a.empty() ? 0.0 : 1.0 / static_cast<double>(a.size());
    double sum = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      const gantry::Dual y = gantry::softplus(-(gantry::Dual{a[i], 1.0} - b[i]));
      sum += y.v;
      grad_a[i] = static_cast<float>(y.d * inv_n);
      if (!grad_b.empty()) grad_b[i] = static_cast<float>(-y.d * inv_n);
    }
    return sum * inv_n;
  }
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::loss, "rsgan", "1.0.0",
          "relativistic standard GAN, real and fake paired by index (Jolicoeur-Martineau 2018)", {},
          gantry::factory_of<RsganLoss>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
