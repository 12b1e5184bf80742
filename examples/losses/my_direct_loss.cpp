// my_direct_loss: a loss written directly against gantry::Loss, gradients by hand, for what a
// per-sample formula cannot say. This one is batch-coupled: every real logit is compared with
// every fake one (all pairs, where the built-in rsgan pairs the i-th real with the i-th fake), so
// each logit's derivative sums over the whole other side. With s = `scale`:
//   D minimises mean over all (i, j) of softplus(−s·(r_i − f_j))
//   G minimises mean over all (i, j) of softplus(−s·(f_j − r_i)), r from a real batch of the G step
// `gantry check` compares these gradients with finite differences, at scale's range ends too:
// run it after every change.
#include <gantry/loss.hpp>

#include <string>
#include <vector>

namespace {

class DirectLoss final : public gantry::Loss {
 public:
  DirectLoss(const gantry::Params& p, const gantry::BuildContext&) : scale_(p.real("scale")) {}

  // D's loss from its logits on a real and a fake batch; writes dL/dreal and dL/dfake. Losses are
  // batch means, so the gradients include the 1/N (here 1/(N_real·N_fake), one per pair).
  double discriminator_loss(std::span<const float> real, std::span<const float> fake, std::span<float> grad_real,
                            std::span<float> grad_fake) override {
    return all_pairs(real, fake, grad_real, grad_fake);
  }

  // G's loss: the same with the roles swapped. The real logits are constants for G (no gradient
  // flows into D from them), so only grad_fake is written.
  double generator_loss(std::span<const float> real, std::span<const float> fake,
                        std::span<float> grad_fake) override {
    if (real.empty() && !fake.empty())
      throw gantry::PluginError("my_direct_loss: generator_loss needs D's logits on a real batch");
    return all_pairs(fake, real, grad_fake, {});
  }

  // G's loss reads real logits: only then does the trainer run D on a real batch in the G step.
  bool uses_real_logits_in_generator_step() const override { return true; }

  // Optional hooks, left at their defaults here (docs/writing-a-loss.md has them all):
  //   void after_discriminator_step(const std::vector<gantry::Parameter*>& params) override;
  //   double discriminator_penalty(gantry::PenaltyContext& ctx) override;
  //   int64_t default_n_critic() const override;

 private:
  // mean over all (i, j) of softplus(x_ij) with x_ij = −s·(a_i − b_j); as softplus' = sigmoid,
  //   ∂/∂a_i = −s·Σ_j sigmoid(x_ij) / (N_a·N_b),   ∂/∂b_j = +s·Σ_i sigmoid(x_ij) / (N_a·N_b).
  // grad_b may be empty (no gradient wanted). Sums in double, kept between calls (no allocation
  // once the batch size is known).
  double all_pairs(std::span<const float> a, std::span<const float> b, std::span<float> grad_a,
                   std::span<float> grad_b) {
    if (a.empty() || b.empty()) return 0.0;
    const double inv_pairs = 1.0 / (static_cast<double>(a.size()) * static_cast<double>(b.size()));
    sum_a_.assign(a.size(), 0.0);
    sum_b_.assign(b.size(), 0.0);
    double loss = 0;
    for (size_t i = 0; i < a.size(); ++i)
      for (size_t j = 0; j < b.size(); ++j) {
        const double x = -scale_ * (static_cast<double>(a[i]) - static_cast<double>(b[j]));
        loss += gantry::softplus(x);  // stable for any x, as is gantry::sigmoid
        const double slope = scale_ * gantry::sigmoid(x);
        sum_a_[i] -= slope;
        sum_b_[j] += slope;
      }
    for (size_t i = 0; i < a.size(); ++i) grad_a[i] = static_cast<float>(sum_a_[i] * inv_pairs);
    for (size_t j = 0; j < grad_b.size(); ++j) grad_b[j] = static_cast<float>(sum_b_[j] * inv_pairs);
    return loss * inv_pairs;
  }

  double scale_;
  std::vector<double> sum_a_, sum_b_;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::loss, "my_direct_loss", "0.1.0",
          "my_direct_loss loss: all-pairs relativistic (made with gantry new loss --direct)",
          {gantry::real_param("scale", 1.0, "slope of the softplus on logit differences", 0.1, 10.0)},
          gantry::factory_of<DirectLoss>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
