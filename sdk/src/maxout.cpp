#include "dnnl_util.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <fmt/format.h>

namespace gantry {

using detail::empty_tensor;

namespace {

// Sends each output's adjoint back to the piece that won; the others get zero. Plain loops: one
// pass over a [N, U·k] activation, small beside the Linear that made it.
void route(const Tensor& dy, const std::vector<int32_t>& winner, Tensor& dx) {
  std::fill(dx.values().begin(), dx.values().end(), 0.0f);
  for (int64_t i = 0; i < dy.size(); ++i) dx[winner[static_cast<size_t>(i)]] = dy[i];
}

}  // namespace

Maxout::Maxout(int64_t pieces) : pieces_(pieces) {
  if (pieces < 1) throw ConfigError(fmt::format("maxout needs at least 1 piece, got {}", pieces));
}

std::string Maxout::describe() const { return fmt::format("Maxout({})", pieces_); }

Maxout::Plan& Maxout::plan_for(const std::vector<int64_t>& shape) {
  auto it = plans_.find(shape);
  if (it != plans_.end()) return it->second;
  if (shape.size() != 2 || shape[1] % pieces_ != 0)
    throw Error(fmt::format("{} needs [N, units × {}] features, got {}", describe(), pieces_, shape_string(shape)));
  Plan& p = plans_[shape];
  p.y = Tensor({shape[0], shape[1] / pieces_});
  p.dx = Tensor(shape);
  p.winner.resize(static_cast<size_t>(p.y.size()));
  return p;
}

const Tensor& Maxout::forward(const Tensor& x, Mode /*mode*/) {
  Plan& p = plan_for(x.shape());
  const float* in = x.data();
  for (int64_t o = 0; o < p.y.size(); ++o) {
    int64_t best = o * pieces_;
    for (int64_t k = 1; k < pieces_; ++k)
      if (in[o * pieces_ + k] > in[best]) best = o * pieces_ + k;
    p.y[o] = in[best];
    p.winner[static_cast<size_t>(o)] = static_cast<int32_t>(best);
  }
  last_ = &p;
  return p.y;
}

const Tensor& Maxout::backward(const Tensor& dy, BackwardOptions options) {
  GANTRY_ASSERT(last_ != nullptr && dy.size() == last_->y.size());
  if (!options.input_grad) return empty_tensor();
  route(dy, last_->winner, last_->dx);
  return last_->dx;
}

DualTensors Maxout::forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode) {
  GANTRY_ASSERT(x_dot.size() == x.size());
  forward(x, mode);
  Plan& p = *last_;
  if (p.y_dot.size() != p.y.size()) {
    p.y_dot = Tensor(p.y.shape());
    p.x_bar = Tensor(x.shape());
    p.x_dot_bar = Tensor(x.shape());
  }
  for (int64_t o = 0; o < p.y.size(); ++o) p.y_dot[o] = x_dot[p.winner[static_cast<size_t>(o)]];
  return {&p.y, &p.y_dot};
}

DualTensors Maxout::backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options) {
  GANTRY_ASSERT(last_ != nullptr);
  Plan& p = *last_;
  const Tensor& none = empty_tensor();
  if (!options.input_grad) return {&none, &none};
  if (y_bar.size() > 0) route(y_bar, p.winner, p.x_bar);
  if (y_dot_bar.size() > 0) route(y_dot_bar, p.winner, p.x_dot_bar);
  return {y_bar.size() > 0 ? &p.x_bar : &none, y_dot_bar.size() > 0 ? &p.x_dot_bar : &none};
}

}  // namespace gantry
