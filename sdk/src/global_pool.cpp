#include "dnnl_util.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <fmt/format.h>

namespace gantry {

using detail::empty_tensor;

namespace {

// Plain loops rather than oneDNN: its reduction primitive has no backward, and both directions are
// one pass over an activation that the convolutions before it take far longer to produce.
void sum_planes(const Tensor& in, Tensor& out) {
  const int64_t planes = out.size(), area = in.size() / planes;
  const float* x = in.data();
  for (int64_t p = 0; p < planes; ++p) {
    float s = 0.0f;
    for (int64_t i = 0; i < area; ++i) s += x[p * area + i];
    out[p] = s;
  }
}

void broadcast_planes(const Tensor& in, Tensor& out) {
  const int64_t planes = in.size(), area = out.size() / planes;
  float* x = out.data();
  for (int64_t p = 0; p < planes; ++p) std::fill(x + p * area, x + (p + 1) * area, in[p]);
}

}  // namespace

GlobalSumPool::Plan& GlobalSumPool::plan_for(const std::vector<int64_t>& shape) {
  auto it = plans_.find(shape);
  if (it != plans_.end()) return it->second;
  if (shape.size() != 4)
    throw Error(fmt::format("{} needs images [N, C, H, W], got {}", describe(), shape_string(shape)));
  Plan& p = plans_[shape];
  p.y = Tensor({shape[0], shape[1]});
  p.dx = Tensor(shape);
  return p;
}

const Tensor& GlobalSumPool::forward(const Tensor& x, Mode /*mode*/) {
  Plan& p = plan_for(x.shape());
  sum_planes(x, p.y);
  last_ = &p;
  return p.y;
}

const Tensor& GlobalSumPool::backward(const Tensor& dy, BackwardOptions options) {
  GANTRY_ASSERT(last_ != nullptr && dy.size() == last_->y.size());
  if (!options.input_grad) return empty_tensor();
  broadcast_planes(dy, last_->dx);
  return last_->dx;
}

DualTensors GlobalSumPool::forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode) {
  GANTRY_ASSERT(x_dot.size() == x.size());
  forward(x, mode);
  Plan& p = *last_;
  if (p.y_dot.size() != p.y.size()) {
    p.y_dot = Tensor(p.y.shape());
    p.x_bar = Tensor(x.shape());
    p.x_dot_bar = Tensor(x.shape());
  }
  sum_planes(x_dot, p.y_dot);
  return {&p.y, &p.y_dot};
}

DualTensors GlobalSumPool::backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options) {
  GANTRY_ASSERT(last_ != nullptr);
  Plan& p = *last_;
  const Tensor& none = empty_tensor();
  if (!options.input_grad) return {&none, &none};
  if (y_bar.size() > 0) broadcast_planes(y_bar, p.x_bar);
  if (y_dot_bar.size() > 0) broadcast_planes(y_dot_bar, p.x_dot_bar);
  return {y_bar.size() > 0 ? &p.x_bar : &none, y_dot_bar.size() > 0 ? &p.x_dot_bar : &none};
}

}  // namespace gantry
