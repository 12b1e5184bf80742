#include "dnnl_util.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <fmt/format.h>

namespace gantry {

using detail::empty_tensor;

namespace {

// out = a + b where an empty tensor stands for zeros; returns out, or the empty tensor when both are.
const Tensor& sum_into(Tensor& out, const Tensor& a, const Tensor& b) {
  if (a.size() == 0 && b.size() == 0) return empty_tensor();
  if (a.size() == 0 || b.size() == 0) {
    const Tensor& only = a.size() > 0 ? a : b;
    GANTRY_ASSERT(only.size() == out.size());
    std::copy(only.data(), only.data() + only.size(), out.data());
    return out;
  }
  GANTRY_ASSERT(a.size() == out.size() && b.size() == out.size());
  const float* pa = a.data();
  const float* pb = b.data();
  float* po = out.data();
  for (int64_t i = 0; i < out.size(); ++i) po[i] = pa[i] + pb[i];
  return out;
}

}  // namespace

Residual::Residual(std::unique_ptr<Sequential> main, std::unique_ptr<Sequential> shortcut)
    : main_(std::move(main)), shortcut_(std::move(shortcut)) {
  GANTRY_ASSERT(main_ != nullptr && main_->size() > 0);
  GANTRY_ASSERT(shortcut_ == nullptr || shortcut_->size() > 0);
}

Residual::~Residual() = default;

std::string Residual::describe() const {
  return fmt::format("Residual({} + {})", main_->describe(), shortcut_ ? shortcut_->describe() : "identity");
}

Residual::Plan& Residual::plan_for(const std::vector<int64_t>& in_shape, const Tensor& main_out,
                                   const Tensor& shortcut_out) {
  auto it = plans_.find(in_shape);
  if (it != plans_.end()) return it->second;
  // Checked once per shape: a block whose branches disagree is the plugin author's mistake.
  if (main_out.shape() != shortcut_out.shape())
    throw Error(fmt::format("{}: on input {} the main branch gives {} but the shortcut gives {}", describe(),
                            shape_string(in_shape), shape_string(main_out.shape()), shape_string(shortcut_out.shape())));
  Plan& p = plans_[in_shape];
  p.y = Tensor(main_out.shape());
  p.dx = Tensor(in_shape);
  return p;
}

const Tensor& Residual::forward(const Tensor& x, Mode mode) {
  const Tensor& a = main_->forward(x, mode);
  const Tensor& b = shortcut_ ? shortcut_->forward(x, mode) : x;
  Plan& p = plan_for(x.shape(), a, b);
  sum_into(p.y, a, b);
  last_ = &p;
  return p.y;
}

// dL/dx = main'ᵀ·dy + shortcut'ᵀ·dy: both branches read the same dy, which neither modifies.
const Tensor& Residual::backward(const Tensor& dy, BackwardOptions options) {
  GANTRY_ASSERT(last_ != nullptr && dy.size() == last_->y.size());
  const Tensor& a = main_->backward(dy, options);
  const Tensor& b = shortcut_ ? shortcut_->backward(dy, options) : dy;
  if (!options.input_grad) return empty_tensor();
  return sum_into(last_->dx, a, b);
}

DualTensors Residual::forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode) {
  // Sequential::forward_dual names the first layer without a dual mode before running any.
  const DualTensors a = main_->forward_dual(x, x_dot, mode);
  const DualTensors b = shortcut_ ? shortcut_->forward_dual(x, x_dot, mode) : DualTensors{&x, &x_dot};
  Plan& p = plan_for(x.shape(), *a.value, *b.value);
  if (p.y_dot.size() != p.y.size()) {
    p.y_dot = Tensor(p.y.shape());
    p.x_bar = Tensor(x.shape());
    p.x_dot_bar = Tensor(x.shape());
  }
  sum_into(p.y, *a.value, *b.value);
  sum_into(p.y_dot, *a.tangent, *b.tangent);
  last_ = &p;
  return {&p.y, &p.y_dot};
}

DualTensors Residual::backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options) {
  GANTRY_ASSERT(last_ != nullptr);
  const DualTensors a = main_->backward_dual(y_bar, y_dot_bar, options);
  const DualTensors b = shortcut_ ? shortcut_->backward_dual(y_bar, y_dot_bar, options) : DualTensors{&y_bar, &y_dot_bar};
  const Tensor& none = empty_tensor();
  if (!options.input_grad) return {&none, &none};
  return {&sum_into(last_->x_bar, *a.value, *b.value), &sum_into(last_->x_dot_bar, *a.tangent, *b.tangent)};
}

std::vector<Parameter*> Residual::parameters() {
  std::vector<Parameter*> all = main_->parameters();
  if (shortcut_)
    for (Parameter* p : shortcut_->parameters()) all.push_back(p);
  return all;
}

std::vector<Tensor*> Residual::buffers() {
  std::vector<Tensor*> all = main_->buffers();
  if (shortcut_)
    for (Tensor* b : shortcut_->buffers()) all.push_back(b);
  return all;
}

bool Residual::couples_batch() const { return main_->couples_batch() || (shortcut_ && shortcut_->couples_batch()); }

bool Residual::supports_dual() const { return main_->supports_dual() && (!shortcut_ || shortcut_->supports_dual()); }

}  // namespace gantry
