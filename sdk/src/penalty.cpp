#include <gantry/error.hpp>
#include <gantry/penalty.hpp>

#include <cmath>

namespace gantry {

Critic::Critic(Layer& d, double epsilon) : d_(d), epsilon_(epsilon) {}

const Tensor& Critic::input_gradient(const Tensor& x) {
  // ∇x D(x_i) row by row is only each sample's own gradient when D treats samples apart.
  if (d_.couples_batch())
    throw Error("a gradient penalty needs a discriminator that treats each sample on its own, but this one "
                "normalises over its batch (BatchNorm): turn its batch normalisation off");
  const int64_t n = x.dim(0);
  if (ones_.size() != n) {
    ones_.reshape({n, 1});
    ones_.fill(1.0f);
  }
  d_.forward(x, Mode::train);
  // Copied: the next pass through D reuses its input-gradient buffer.
  grad_ = d_.backward(ones_, {.input_grad = true, .weight_grad = false});
  return grad_;
}

void Critic::add_parameter_gradient(const Tensor& x, const Tensor& v) {
  GANTRY_ASSERT(v.size() == x.size() && grad_.size() == x.size());
  const int64_t n = x.dim(0), d = x.sample_size();
  // Each row steps h_i along its own unit direction u_i = v_i/‖v_i‖ and its parameter gradient is
  // scaled back by ‖v_i‖/2h_i. Central differences of ∇θD are exact for a critic that is linear
  // between x − h u and x + h u (ReLU-family critics, away from a kink) and second-order accurate
  // for smooth ones. A kink in between shows: D's own difference quotient then disagrees with
  // u·∇x D(x) from input_gradient(). Such rows retry with a step 8 times shorter.
  norms_.assign(static_cast<size_t>(n), 0.0);
  steps_.assign(static_cast<size_t>(n), epsilon_);
  directional_.assign(static_cast<size_t>(n), 0.0);
  bool any = false;
  for (int64_t i = 0; i < n; ++i) {
    double sq = 0, dot = 0;
    for (int64_t j = 0; j < d; ++j) {
      sq += static_cast<double>(v[i * d + j]) * v[i * d + j];
      dot += static_cast<double>(v[i * d + j]) * grad_[i * d + j];
    }
    norms_[static_cast<size_t>(i)] = std::sqrt(sq);
    if (sq > 0) directional_[static_cast<size_t>(i)] = dot / std::sqrt(sq), any = true;
  }
  if (!any) return;
  shifted_.reshape(x.shape());
  if (scale_.size() != n) scale_.reshape({n, 1});
  auto shift = [&](int sign) {
    for (int64_t i = 0; i < n; ++i) {
      const double norm = norms_[static_cast<size_t>(i)];
      const float step = norm > 0 ? static_cast<float>(sign * steps_[static_cast<size_t>(i)] / norm) : 0.0f;
      for (int64_t j = 0; j < d; ++j) shifted_[i * d + j] = x[i * d + j] + step * v[i * d + j];
    }
  };
  for (int attempt = 0; attempt < 4; ++attempt) {
    shift(+1);
    plus_ = d_.forward(shifted_, Mode::train);
    shift(-1);
    const Tensor& minus = d_.forward(shifted_, Mode::train);
    bool retry = false;
    for (int64_t i = 0; i < n; ++i) {
      double& h = steps_[static_cast<size_t>(i)];
      if (norms_[static_cast<size_t>(i)] == 0) continue;
      const double quotient = (static_cast<double>(plus_[i]) - minus[i]) / (2 * h);
      const double rounding = 1e-6 * (std::abs(plus_[i]) + std::abs(minus[i])) / h;
      if (std::abs(quotient - directional_[static_cast<size_t>(i)]) >
          1e-3 * std::abs(directional_[static_cast<size_t>(i)]) + rounding + 1e-6) {
        h /= 8;
        retry = true;
      }
    }
    if (!retry) break;
  }
  for (int sign : {+1, -1}) {
    shift(sign);
    for (int64_t i = 0; i < n; ++i)
      scale_[i] = static_cast<float>(sign * norms_[static_cast<size_t>(i)] / (2 * steps_[static_cast<size_t>(i)]));
    d_.forward(shifted_, Mode::train);
    d_.backward(scale_, {.input_grad = false, .weight_grad = true});
  }
}

double gradient_penalty(Critic& critic, const Tensor& real, const Tensor& fake, std::span<const float> alpha,
                        double lambda) {
  const int64_t n = real.dim(0), d = real.sample_size();
  GANTRY_ASSERT(fake.size() == real.size() && static_cast<int64_t>(alpha.size()) == n);
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

double r1_penalty(Critic& critic, const Tensor& real, double gamma) {
  const int64_t n = real.dim(0);
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
