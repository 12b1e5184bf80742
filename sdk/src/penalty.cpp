#include <gantry/error.hpp>
#include <gantry/penalty.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace gantry {

Critic::Critic(Layer& d, int64_t pack) : d_(d), pack_(pack) { GANTRY_ASSERT(pack_ >= 1); }

int64_t Critic::inputs(const Tensor& x) const {
  if (x.rank() < 1 || x.dim(0) % pack_ != 0)
    throw Error(fmt::format("the critic packs {} samples per input, but the penalty's batch is {}", pack_,
                            shape_string(x.shape())));
  return x.dim(0) / pack_;
}

void Critic::check_per_sample() const {
  // ∇x D(x_i) row by row is only each sample's own gradient when D treats samples apart.
  if (d_.couples_batch())
    throw Error("a gradient penalty needs a discriminator that treats each sample on its own, but this one "
                "normalises over its batch (BatchNorm): turn its batch normalisation off");
  // Refused before the first pass, which would otherwise fail on other grounds first.
  if (!d_.supports_dual()) d_.forward_dual(Tensor(), Tensor());  // throws, naming the layer
}

void Critic::size_seed(int64_t n) {
  if (ones_.size() != n) {
    ones_.reshape({n, 1});
    ones_.fill(1.0f);
  }
}

const Tensor& Critic::input_gradient(const Tensor& x) {
  check_per_sample();
  size_seed(inputs(x));
  d_.forward(x, Mode::train);
  // Copied: the next pass through D reuses its input-gradient buffer.
  grad_ = d_.backward(ones_, {.input_grad = true, .weight_grad = false});
  return grad_;
}

// Σ_i v_i·∇x D(x_i) = Σ_i ẏ_i, the output tangent of D at x in direction v; its gradient with
// respect to θ is the reverse pass through the dual computation seeded with ȳ = 0, ẏ̄ = 1. The zero
// primal seed is passed as an empty tensor, which lets piecewise-linear critics (σ'' = 0) skip the
// primal stream altogether: there the whole reverse pass is one ordinary backward of the tangent.
void Critic::add_parameter_gradient(const Tensor& x, const Tensor& v) {
  GANTRY_ASSERT(v.size() == x.size() && x.rank() >= 1);
  check_per_sample();
  size_seed(inputs(x));
  const DualTensors y = d_.forward_dual(x, v, Mode::train);
  GANTRY_ASSERT(y.tangent->size() == ones_.size());
  d_.backward_dual(none_, ones_, {.input_grad = false, .weight_grad = true});
}

double gradient_penalty(Critic& critic, const Tensor& real, const Tensor& fake, std::span<const float> alpha,
                        double lambda) {
  // A packed input's samples are consecutive rows, so input i is the contiguous block of d values.
  const int64_t n = critic.inputs(real), d = real.sample_size() * critic.pack();
  GANTRY_ASSERT(fake.size() == real.size());
  if (static_cast<int64_t>(alpha.size()) != n)
    throw Error(fmt::format("gradient_penalty: {} interpolation weights for {} critic inputs ({} samples packed by {})",
                            alpha.size(), n, real.dim(0), critic.pack()));
  Tensor& x_hat = critic.x_hat_;
  x_hat.reshape(real.shape());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j)
      x_hat[i * d + j] = alpha[static_cast<size_t>(i)] * real[i * d + j] +
                         (1.0f - alpha[static_cast<size_t>(i)]) * fake[i * d + j];
  const Tensor& g = critic.input_gradient(x_hat);
  Tensor& v = critic.v_;
  v.reshape(real.shape());
  double value = 0;
  for (int64_t i = 0; i < n; ++i) {
    double norm2 = 0;
    for (int64_t j = 0; j < d; ++j) norm2 += static_cast<double>(g[i * d + j]) * g[i * d + j];
    const double norm = std::sqrt(norm2);
    value += (norm - 1) * (norm - 1);
    // d/dg (‖g‖ − 1)² = 2 (‖g‖ − 1) g / ‖g‖; at g = 0 the subgradient 0 is taken.
    const double coeff = norm > 0 ? lambda / static_cast<double>(n) * 2 * (norm - 1) / norm : 0.0;
    for (int64_t j = 0; j < d; ++j) v[i * d + j] = static_cast<float>(coeff * g[i * d + j]);
  }
  critic.add_parameter_gradient(x_hat, v);
  return lambda * value / static_cast<double>(n);
}

double dragan_penalty(Critic& critic, const Tensor& real, Rng& rng, double lambda) {
  const int64_t n = critic.inputs(real);
  double sum = 0, sq = 0;
  for (float x : real.values()) sum += x, sq += static_cast<double>(x) * x;
  const double count = static_cast<double>(real.size()), mean = sum / count;
  const double std = std::sqrt(std::max(0.0, sq / count - mean * mean));  // numpy's x.std(): ddof 0
  Tensor& perturbed = critic.perturbed_;
  perturbed.reshape(real.shape());
  rng.fill_uniform(perturbed.values(), 0.0f, 1.0f);
  for (int64_t i = 0; i < real.size(); ++i) perturbed[i] = real[i] + static_cast<float>(0.5 * std) * perturbed[i];
  critic.alpha_.resize(static_cast<size_t>(n));
  rng.fill_uniform(critic.alpha_, 0.0f, 1.0f);
  // x + α(x_p − x) is gradient_penalty's α·x_p + (1 − α)·x.
  return gradient_penalty(critic, perturbed, real, critic.alpha_, lambda);
}

double r1_penalty(Critic& critic, const Tensor& real, double gamma) {
  const int64_t n = critic.inputs(real);
  const Tensor& g = critic.input_gradient(real);
  Tensor& v = critic.v_;
  v.reshape(real.shape());
  double value = 0;
  for (int64_t i = 0; i < g.size(); ++i) {
    value += static_cast<double>(g[i]) * g[i];
    v[i] = static_cast<float>(gamma / static_cast<double>(n) * g[i]);
  }
  critic.add_parameter_gradient(real, v);
  return gamma / 2 * value / static_cast<double>(n);
}

}  // namespace gantry
