#include "dnnl_util.hpp"

#include <gantry/error.hpp>
#include <gantry/layer.hpp>

#include <fmt/format.h>

namespace gantry {

const Tensor& detail::empty_tensor() {
  static const Tensor empty;
  return empty;
}

Parameter::Parameter(std::string param_name, Tensor initial)
    : name(std::move(param_name)), value(std::move(initial)), grad_(value.shape()) {}

void Parameter::accumulate(const Tensor& delta) {
  GANTRY_ASSERT(delta.size() == grad_.size());
  if (grad_is_zero_) {
    std::copy(delta.data(), delta.data() + delta.size(), grad_.data());
    grad_is_zero_ = false;
    return;
  }
  float* g = grad_.data();
  const float* d = delta.data();
  for (int64_t i = 0; i < grad_.size(); ++i) g[i] += d[i];
}

Tensor& Parameter::write_buffer(Tensor& scratch) {
  return grad_is_zero_ ? grad_ : scratch;
}

void Parameter::commit(const Tensor& scratch) {
  // Still "zero" means write_buffer() handed out the gradient itself, which now holds the pass.
  if (grad_is_zero_) grad_is_zero_ = false;
  else accumulate(scratch);
}

const Tensor& Parameter::gradient() {
  if (grad_is_zero_) {
    grad_.fill(0.0f);
    grad_is_zero_ = false;
  }
  return grad_;
}

Layer::~Layer() = default;

DualTensors Layer::forward_dual(const Tensor& /*x*/, const Tensor& /*x_dot*/, Mode /*mode*/) {
  throw Error(fmt::format("layer {} has no dual mode (forward_dual/backward_dual), which exact gradient penalties "
                          "need from every layer of the critic",
                          describe()));
}

DualTensors Layer::backward_dual(const Tensor& /*y_bar*/, const Tensor& /*y_dot_bar*/, BackwardOptions /*options*/) {
  throw Error(fmt::format("layer {} has no dual mode (forward_dual/backward_dual)", describe()));
}

void Layer::zero_grad() {
  for (Parameter* p : parameters()) p->zero_grad();
}

}  // namespace gantry
