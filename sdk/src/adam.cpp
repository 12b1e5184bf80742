#include <gantry/error.hpp>
#include <gantry/optimizer.hpp>

#include <cmath>

namespace gantry {

Adam::Adam(std::vector<Parameter*> params, AdamOptions options)
    : params_(std::move(params)), opt_(options) {
  for (Parameter* p : params_) {
    m_.emplace_back(p->value.shape());
    v_.emplace_back(p->value.shape());
  }
}

void Adam::zero_grad() {
  for (Parameter* p : params_) p->grad_is_zero = true;
}

void Adam::step() {
  ++t_;
  const double bc1 = 1.0 - std::pow(opt_.beta1, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(opt_.beta2, static_cast<double>(t_));
  const float b1 = static_cast<float>(opt_.beta1), b2 = static_cast<float>(opt_.beta2);
  const float step_size = static_cast<float>(opt_.lr / bc1);
  const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
  const float eps = static_cast<float>(opt_.eps);
  for (size_t k = 0; k < params_.size(); ++k) {
    Parameter& p = *params_[k];
    const float* g = p.gradient().data();
    float* w = p.value.data();
    float* m = m_[k].data();
    float* v = v_[k].data();
    const int64_t n = p.value.size();
    for (int64_t i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + (1.0f - b1) * g[i];
      v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
      w[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
    }
  }
}

}  // namespace gantry
