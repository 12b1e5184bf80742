#pragma once
#include <gantry/dual.hpp>
#include <gantry/error.hpp>
#include <gantry/layer.hpp>
#include <gantry/penalty.hpp>
#include <gantry/plugin.hpp>

#include <span>
#include <vector>

namespace gantry {

/// What a loss's penalty sees at each D step: the critic, the batch D was trained on, and a
/// seeded generator (e.g. for interpolation weights). A class-conditional critic holds the real
/// batch's labels: sample i of any penalty batch is scored under real sample i's label.
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
  /// G's loss from D's logits on the G step's real and fake batches; writes dL/dfake. The real
  /// logits are constants for G (no gradient into D); empty unless uses_real_logits_in_generator_step().
  virtual double generator_loss(std::span<const float> real, std::span<const float> fake,
                                std::span<float> grad_fake) = 0;
  /// Whether generator_loss reads real logits (relativistic losses); only then does the trainer
  /// run D on a real batch in the G step, so other losses pay nothing for it.
  virtual bool uses_real_logits_in_generator_step() const { return false; }
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
  double generator_loss(std::span<const float> /*real*/, std::span<const float> fake,
                        std::span<float> grad_fake) override {
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

/// A relativistic-average loss (Jolicoeur-Martineau 2018) written as four per-sample formulas,
/// each on one logit and the batch mean of the other side's logits; the SDK takes batch means and
/// derives the exact gradient, coupling through the means included. `F` provides, over T:
///   T d_real(T r, T mean_fake)   D's loss on one real logit
///   T d_fake(T f, T mean_real)   D's loss on one fake logit
///   T g_fake(T f, T mean_real)   G's loss on one fake logit
///   T g_real(T r, T mean_fake)   G's loss on one real logit (real logits are constants for G)
template <class F>
class RelativisticFormulaLoss : public Loss {
 public:
  explicit RelativisticFormulaLoss(F formula = {}) : f_(std::move(formula)) {}

  // L = mean_i a(r_i, m_f) + mean_j b(f_j, m_r) with m = the batch means, so
  //   dL/dr_i = (∂₁a(r_i, m_f) + mean_j ∂₂b(f_j, m_r)) / N   (d m_r / d r_i = 1/N)
  // and the same with the roles swapped for f_j. Both partial derivatives come from dual numbers.
  double discriminator_loss(std::span<const float> real, std::span<const float> fake,
                            std::span<float> grad_real, std::span<float> grad_fake) override {
    const double mean_real = mean(real), mean_fake = mean(fake);
    auto d_real = [this](Dual r, Dual m) { return f_.d_real(r, m); };
    auto d_fake = [this](Dual f, Dual m) { return f_.d_fake(f, m); };
    const Side on_real = side(real, mean_fake, d_real), on_fake = side(fake, mean_real, d_fake);
    write_gradient(real, mean_fake, d_real, on_fake.d_mean, grad_real);
    write_gradient(fake, mean_real, d_fake, on_real.d_mean, grad_fake);
    return on_real.value + on_fake.value;
  }
  double generator_loss(std::span<const float> real, std::span<const float> fake,
                        std::span<float> grad_fake) override {
    if (real.empty() && !fake.empty())
      throw PluginError("a relativistic loss's generator_loss needs D's logits on a real batch");
    const double mean_real = mean(real), mean_fake = mean(fake);
    auto g_fake = [this](Dual f, Dual m) { return f_.g_fake(f, m); };
    auto g_real = [this](Dual r, Dual m) { return f_.g_real(r, m); };
    const Side on_fake = side(fake, mean_real, g_fake), on_real = side(real, mean_fake, g_real);
    // Only the fake logits get a gradient: the real ones reach G through the fake mean alone.
    write_gradient(fake, mean_real, g_fake, on_real.d_mean, grad_fake);
    return on_fake.value + on_real.value;
  }
  bool uses_real_logits_in_generator_step() const override { return true; }
  F& formula() { return f_; }

 private:
  struct Side {
    double value = 0;   // mean of the term over this side's logits
    double d_mean = 0;  // mean of ∂term/∂(other side's mean): added to each of the other side's
                        // derivatives before their 1/N
  };
  static double mean(std::span<const float> x) {
    double sum = 0;
    for (float v : x) sum += v;
    return x.empty() ? 0.0 : sum / static_cast<double>(x.size());
  }
  template <class Term>
  static Side side(std::span<const float> x, double other_mean, Term term) {
    Side s;
    for (float v : x) {
      const Dual y = term(Dual{v}, Dual{other_mean, 1.0});
      s.value += y.v;
      s.d_mean += y.d;
    }
    const double inv_n = x.empty() ? 0.0 : 1.0 / static_cast<double>(x.size());
    return {s.value * inv_n, s.d_mean * inv_n};
  }
  template <class Term>
  static void write_gradient(std::span<const float> x, double other_mean, Term term, double coupling,
                             std::span<float> grad) {
    const double inv_n = x.empty() ? 0.0 : 1.0 / static_cast<double>(x.size());
    for (size_t i = 0; i < x.size(); ++i)
      grad[i] = static_cast<float>((term(Dual{x[i], 1.0}, Dual{other_mean}).d + coupling) * inv_n);
  }
  F f_;
};

}  // namespace gantry
