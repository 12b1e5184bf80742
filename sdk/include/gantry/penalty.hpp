#pragma once
#include <gantry/api.hpp>
#include <gantry/layer.hpp>
#include <gantry/random.hpp>
#include <gantry/tensor.hpp>

#include <span>
#include <vector>

namespace gantry {

/// What a gradient penalty may ask of the critic D (a Layer mapping [N, ...] to logits
/// [N / pack, 1]: with PacGAN packing, each logit reads `pack` consecutive samples, one *input*).
/// D must treat inputs apart (no couples_batch()) and support dual mode (Layer::supports_dual()).
class GANTRY_API Critic {
 public:
  explicit Critic(Layer& d, int64_t pack = 1);
  Layer& layer() { return d_; }
  /// Samples per critic input (Discriminator::pack()).
  int64_t pack() const { return pack_; }
  /// Critic inputs in a batch of samples; throws Error unless the batch is a multiple of pack().
  int64_t inputs(const Tensor& x) const;
  /// ∇x D(x_i) for every input i of x (its pack() rows); D's parameter gradients are left alone.
  const Tensor& input_gradient(const Tensor& x);
  /// Adds ∇θ Σ_i v_i · ∇x D(x_i) to D's parameter gradients, exactly: D runs forward in dual mode
  /// (tangent v), then back-propagates Σ_i ẏ_i through both streams (forward-over-reverse).
  void add_parameter_gradient(const Tensor& x, const Tensor& v);

 private:
  friend double gradient_penalty(Critic&, const Tensor&, const Tensor&, std::span<const float>, double);
  friend double r1_penalty(Critic&, const Tensor&, double);
  friend double dragan_penalty(Critic&, const Tensor&, Rng&, double);
  void check_per_sample() const;
  void size_seed(int64_t n);
  Layer& d_;
  int64_t pack_;
  Tensor ones_, grad_, none_;
  Tensor x_hat_, v_, perturbed_;  // the penalties' buffers, kept so the training loop does not allocate
  std::vector<float> alpha_;
};

/// WGAN-GP (Gulrajani et al. 2017): λ · mean_i (‖∇x D(x̂_i)‖ − 1)² at x̂_i = α_i real_i + (1 − α_i)
/// fake_i, i over critic inputs: with packing, one α and one norm per packed input, so x̂_i lies on
/// the line between the packed real and fake inputs. `alpha` has critic.inputs(real) values.
/// Adds the penalty's gradient to D's parameter gradients and returns its value.
GANTRY_API double gradient_penalty(Critic& critic, const Tensor& real, const Tensor& fake,
                                   std::span<const float> alpha, double lambda);
/// DRAGAN (Kodali et al. 2017): λ · mean_i (‖∇x D(x̃_i)‖ − 1)² around the real data, at x̃_i = x_i +
/// α_i·δ_i with δ = 0.5·std(x)·u, u ~ U[0, 1) per element, std over the whole batch and α_i ~ U[0, 1)
/// per critic input (the authors' code; per packed input with packing). Draws from `rng`; adds its gradient to D's; returns its value.
GANTRY_API double dragan_penalty(Critic& critic, const Tensor& real, Rng& rng, double lambda);
/// R1 (Mescheder et al. 2018): γ/2 · mean_i ‖∇x D(real_i)‖², i over critic inputs. Adds its gradient; returns its value.
GANTRY_API double r1_penalty(Critic& critic, const Tensor& real, double gamma);

}  // namespace gantry
