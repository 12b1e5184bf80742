#include "dnnl_util.hpp"

#include <gantry/error.hpp>
#include <gantry/layer.hpp>

namespace gantry {

const Tensor& detail::empty_tensor() {
  static const Tensor empty;
  return empty;
}

void Parameter::accumulate(const Tensor& delta) {
  GANTRY_ASSERT(delta.size() == grad.size());
  if (grad_is_zero) {
    std::copy(delta.data(), delta.data() + delta.size(), grad.data());
    grad_is_zero = false;
    return;
  }
  float* g = grad.data();
  const float* d = delta.data();
  for (int64_t i = 0; i < grad.size(); ++i) g[i] += d[i];
}

const Tensor& Parameter::gradient() {
  if (grad_is_zero) {
    grad.fill(0.0f);
    grad_is_zero = false;
  }
  return grad;
}

Layer::~Layer() = default;

void Layer::zero_grad() {
  for (Parameter* p : parameters()) p->grad_is_zero = true;
}

}  // namespace gantry
