#pragma once
#include <gantry/dual.hpp>
#include <gantry/layer.hpp>
#include <gantry/penalty.hpp>
#include <gantry/plugin.hpp>

#include <span>
#include <vector>

namespace gantry {

/// What a loss's penalty sees at each D step: the critic, the batch D was trained on, and a
/// seeded generator (e.g. for interpolation weights).
struct PenaltyContext {
  Critic& critic;
  const Tensor& real;
  const Tensor& fake;
  Rng& rng;
};

/// An adversarial loss on D's raw logits. Losses are batch means; gradients include the 1/N.
class GANTRY_API Loss : public Plugin {
 public:
  /// D's loss from its logits on real and fake samples; writes dL/dlogits for both.
  virtual double discriminator_loss(std::span<const float> real, std::span<const float> fake,
                                    std::span<float> grad_real, std::span<float> grad_fake) = 0;
  /// G's loss from D's logits on fake samples; writes dL/dlogits.
  virtual double generator_loss(std::span<const float> fake, std::span<float> grad_fake) = 0;
  /// Called after every optimizer step of D (e.g. weight clipping).
  virtual void after_discriminator_step(const std::vector<Parameter*>& /*params*/) {}
  /// A penalty on D, called after D's loss gradient is accumulated and before D's optimizer step:
  /// it adds its own gradient to D's parameters (see penalty.hpp) and returns its value.
  virtual double discriminator_penalty(PenaltyContext& /*ctx*/) { return 0; }
  /// D updates per G update when the experiment does not set train.n_critic.
  virtual int64_t default_n_critic() const { return 1; }
};

/// A loss written as three per-sample formulas; the SDK takes batch means and derives the exact
/// derivatives with dual numbers. `F` provides, as templates over the scalar type T:
///   T d_real(T r)   D's loss on one real logit
///   T d_fake(T f)   D's loss on one fake logit
///   T g_fake(T f)   G's loss on one fake logit
template <class F>
class FormulaLoss : public Loss {
 public:
  explicit FormulaLoss(F formula = {}) : f_(std::move(formula)) {}

  double discriminator_loss(std::span<const float> real, std::span<const float> fake,
                            std::span<float> grad_real, std::span<float> grad_fake) override {
    return mean_term(real, grad_real, [this](Dual x) { return f_.d_real(x); }) +
           mean_term(fake, grad_fake, [this](Dual x) { return f_.d_fake(x); });
  }
  double generator_loss(std::span<const float> fake, std::span<float> grad_fake) override {
    return mean_term(fake, grad_fake, [this](Dual x) { return f_.g_fake(x); });
  }
  F& formula() { return f_; }

 private:
  template <class Term>
  static double mean_term(std::span<const float> logits, std::span<float> grad, Term term) {
    const double inv_n = logits.empty() ? 0.0 : 1.0 / static_cast<double>(logits.size());
    double sum = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
      Dual y = term(Dual{logits[i], 1.0});
      sum += y.v;
      grad[i] = static_cast<float>(y.d * inv_n);
    }
    return sum * inv_n;
  }
  F f_;
};

}  // namespace gantry
