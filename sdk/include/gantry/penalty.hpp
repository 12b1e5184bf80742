#pragma once
#include <gantry/api.hpp>
#include <gantry/layer.hpp>
#include <gantry/random.hpp>
#include <gantry/tensor.hpp>

#include <span>
#include <vector>

namespace gantry {

/// What a gradient penalty may ask of the critic D (a Layer mapping [N, ...] to logits [N, 1]).
class GANTRY_API Critic {
 public:
  /// `epsilon`: how far add_parameter_gradient moves each sample along its direction.
  explicit Critic(Layer& d, double epsilon = 1e-2);
  Layer& layer() { return d_; }
  /// ∇x D(x_i) for every row i of x; D's parameter gradients are left alone.
  const Tensor& input_gradient(const Tensor& x);
  /// Adds ∇θ Σ_i v_i · ∇x D(x_i) to D's parameter gradients: the Hessian-vector product, as
  /// [∇θ Σ D(x + h·v) − ∇θ Σ D(x − h·v)] / 2h with v held fixed (four extra passes through D).
  /// Call it right after input_gradient(x) with the same x: that gradient validates the step.
  void add_parameter_gradient(const Tensor& x, const Tensor& v);

 private:
  friend double gradient_penalty(Critic&, const Tensor&, const Tensor&, std::span<const float>, double);
  friend double r1_penalty(Critic&, const Tensor&, double);
  Layer& d_;
  double epsilon_;
  Tensor ones_, grad_, shifted_, scale_;
  Tensor x_hat_, v_;  // the penalties' buffers, kept so the training loop does not allocate
  std::vector<double> norms_, steps_, directional_;
  Tensor plus_;
};

/// WGAN-GP (Gulrajani et al. 2017): λ · mean_i (‖∇x D(x̂_i)‖ − 1)² at x̂_i = α_i real_i + (1 − α_i)
/// fake_i. Adds the penalty's gradient to D's parameter gradients and returns its value.
GANTRY_API double gradient_penalty(Critic& critic, const Tensor& real, const Tensor& fake,
                                   std::span<const float> alpha, double lambda);
/// R1 (Mescheder et al. 2018): γ/2 · mean_i ‖∇x D(real_i)‖². Adds its gradient; returns its value.
GANTRY_API double r1_penalty(Critic& critic, const Tensor& real, double gamma);

}  // namespace gantry
