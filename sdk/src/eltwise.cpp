#include "dnnl_util.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <fmt/format.h>

namespace gantry {

using namespace detail;
using dnnl::algorithm;
using dnnl::memory;

struct Eltwise::Plan {
  dnnl::eltwise_forward fwd;
  dnnl::eltwise_backward bwd;
  memory src, dst, diff_dst, diff_src;
  Tensor y, dx;
  const Tensor* x = nullptr;
  // Dual mode, allocated by the first forward_dual().
  Tensor y_dot, x_bar, x_dot_bar;
  const Tensor* x_dot = nullptr;

  /// out = σ'(x)·d, by the backward primitive (from x or from y = σ(x), whichever it reads).
  void derivative_times(const Tensor& d, Tensor& out, bool from_dst) {
    diff_dst.set_data_handle(const_cast<float*>(d.data()));
    diff_src.set_data_handle(out.data());
    if (from_dst) {
      bwd.execute(stream(), {{DNNL_ARG_DST, dst}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_SRC, diff_src}});
    } else {
      src.set_data_handle(const_cast<float*>(x->data()));
      bwd.execute(stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_SRC, diff_src}});
    }
    stream().wait();
  }
};

namespace {

// Tanh and sigmoid differentiate from their output, which we keep anyway; ReLU from its input.
bool uses_dst(Activation a) { return a == Activation::tanh || a == Activation::sigmoid; }

algorithm algorithm_of(Activation a) {
  switch (a) {
    case Activation::relu:
    case Activation::leaky_relu: return algorithm::eltwise_relu;
    case Activation::tanh: return algorithm::eltwise_tanh_use_dst_for_bwd;
    case Activation::sigmoid: return algorithm::eltwise_logistic_use_dst_for_bwd;
  }
  GANTRY_ASSERT(false);
}

}  // namespace

Eltwise::Eltwise(Activation activation, float slope) : activation_(activation), slope_(slope) {
  if (activation_ != Activation::leaky_relu) slope_ = 0.0f;
}

Eltwise::~Eltwise() = default;

std::string Eltwise::describe() const {
  switch (activation_) {
    case Activation::relu: return "ReLU";
    case Activation::leaky_relu: return fmt::format("LeakyReLU({})", slope_);
    case Activation::tanh: return "Tanh";
    case Activation::sigmoid: return "Sigmoid";
  }
  return "?";
}

Eltwise::Plan& Eltwise::plan_for(const std::vector<int64_t>& shape) {
  auto it = plans_.find(shape);
  if (it != plans_.end()) return *it->second;
  auto p = std::make_unique<Plan>();
  const auto md = plain_md(shape);
  const auto alg = algorithm_of(activation_);
  auto fwd_pd = dnnl::eltwise_forward::primitive_desc(
      {dnnl::prop_kind::forward_training, alg, md, slope_, 0.0f}, engine());
  auto bwd_pd = dnnl::eltwise_backward::primitive_desc({alg, md, md, slope_, 0.0f}, engine(), fwd_pd);
  p->fwd = dnnl::eltwise_forward(fwd_pd);
  p->bwd = dnnl::eltwise_backward(bwd_pd);
  p->y = Tensor(shape);
  p->src = wrap(md, nullptr);
  p->dst = wrap(md, p->y.data());
  p->diff_dst = wrap(md, nullptr);
  p->diff_src = wrap(md, nullptr);
  // ReLU differentiates from its input, so its output buffer is free by the time the gradient
  // comes back and holds dL/dx; tanh and sigmoid read their output and need a buffer of their own.
  if (uses_dst(activation_)) p->dx = Tensor(shape);
  return *plans_.emplace(shape, std::move(p)).first->second;
}

const Tensor& Eltwise::forward(const Tensor& x, Mode /*mode*/) {
  Plan& p = plan_for(x.shape());
  p.x = &x;
  p.src.set_data_handle(const_cast<float*>(x.data()));
  p.fwd.execute(stream(), {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_DST, p.dst}});
  stream().wait();
  last_ = &p;
  return p.y;
}

const Tensor& Eltwise::backward(const Tensor& dy, BackwardOptions options) {
  GANTRY_ASSERT(last_ != nullptr);
  Plan& p = *last_;
  GANTRY_ASSERT(dy.size() == p.y.size());
  if (!options.input_grad) return empty_tensor();
  Tensor& dx = uses_dst(activation_) ? p.dx : p.y;
  p.derivative_times(dy, dx, uses_dst(activation_));
  return dx;
}

// ẏ = σ'(x)·ẋ is the backward primitive applied to ẋ.
DualTensors Eltwise::forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode) {
  GANTRY_ASSERT(x_dot.size() == x.size());
  forward(x, mode);
  Plan& p = *last_;
  if (p.y_dot.size() != p.y.size()) {
    p.y_dot = Tensor(x.shape());
    p.x_bar = Tensor(x.shape());
    p.x_dot_bar = Tensor(x.shape());
  }
  p.x_dot = &x_dot;
  p.derivative_times(x_dot, p.y_dot, uses_dst(activation_));
  return {&p.y, &p.y_dot};
}

// x̄ = σ'(x)·ȳ + σ''(x)·ẋ·ẏ̄ and ẋ̄ = σ'(x)·ẏ̄. σ'' is 0 for the ReLU family (PyTorch's convention at the
// kink too) and, from y = σ(x), −2y(1 − y²) for tanh and y(1 − y)(1 − 2y) for the sigmoid.
DualTensors Eltwise::backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options) {
  GANTRY_ASSERT(last_ != nullptr && last_->x_dot != nullptr);
  Plan& p = *last_;
  const Tensor& none = empty_tensor();
  if (!options.input_grad) return {&none, &none};
  const bool from_dst = uses_dst(activation_), primal = y_bar.size() > 0, tangent = y_dot_bar.size() > 0;
  const bool curved = from_dst && tangent;
  if (primal) p.derivative_times(y_bar, p.x_bar, from_dst);
  if (curved) {
    const bool tanh = activation_ == Activation::tanh;
    const float* y = p.y.data();
    const float* xd = p.x_dot->data();
    const float* ydb = y_dot_bar.data();
    float* xb = p.x_bar.data();
    for (int64_t i = 0; i < p.y.size(); ++i) {
      const float second = tanh ? -2.0f * y[i] * (1.0f - y[i] * y[i]) : y[i] * (1.0f - y[i]) * (1.0f - 2.0f * y[i]);
      xb[i] = (primal ? xb[i] : 0.0f) + second * xd[i] * ydb[i];
    }
  }
  if (tangent) p.derivative_times(y_dot_bar, p.x_dot_bar, from_dst);
  return {primal || curved ? &p.x_bar : &none, tangent ? &p.x_dot_bar : &none};
}

Activation parse_activation(std::string_view name) {
  if (name == "relu") return Activation::relu;
  if (name == "leaky_relu") return Activation::leaky_relu;
  if (name == "tanh") return Activation::tanh;
  if (name == "sigmoid") return Activation::sigmoid;
  throw ConfigError(fmt::format("unknown activation '{}' (available: leaky_relu, relu, sigmoid, tanh)", name));
}

std::unique_ptr<Layer> make_activation(Activation activation, float slope) {
  return std::make_unique<Eltwise>(activation, slope);
}

}  // namespace gantry
