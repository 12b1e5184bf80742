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
  // ReLU differentiates from its input, so its output buffer is free by the time the gradient
  // comes back and holds dL/dx; tanh and sigmoid read their output and need a buffer of their own.
  if (!uses_dst(activation_)) {
    p->diff_src = wrap(md, p->y.data());
  } else {
    p->dx = Tensor(shape);
    p->diff_src = wrap(md, p->dx.data());
  }
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
  p.diff_dst.set_data_handle(const_cast<float*>(dy.data()));
  if (uses_dst(activation_)) {
    p.bwd.execute(stream(), {{DNNL_ARG_DST, p.dst},
                             {DNNL_ARG_DIFF_DST, p.diff_dst},
                             {DNNL_ARG_DIFF_SRC, p.diff_src}});
  } else {
    p.src.set_data_handle(const_cast<float*>(p.x->data()));
    p.bwd.execute(stream(), {{DNNL_ARG_SRC, p.src},
                             {DNNL_ARG_DIFF_DST, p.diff_dst},
                             {DNNL_ARG_DIFF_SRC, p.diff_src}});
  }
  stream().wait();
  return uses_dst(activation_) ? p.dx : p.y;
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
