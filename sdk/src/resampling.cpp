#include "resampling.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <fmt/format.h>

namespace gantry {

using namespace detail;

namespace detail {

void ResamplingPlan::bind(const dnnl::memory::desc& src_md, const dnnl::memory::desc& dst_md) {
  const dnnl::memory::dims src_dims = src_md.dims(), dst_dims = dst_md.dims();  // dims() returns a copy
  y = Tensor(std::vector<int64_t>(dst_dims.begin(), dst_dims.end()));
  dx = Tensor(std::vector<int64_t>(src_dims.begin(), src_dims.end()));
  src = wrap(src_md, nullptr);
  dst = wrap(dst_md, nullptr);
  diff_dst = wrap(dst_md, nullptr);
  diff_src = wrap(src_md, nullptr);
}

void ResamplingPlan::apply(const Tensor& in, Tensor& out) {
  GANTRY_ASSERT(in.size() == dx.size() && out.size() == y.size());
  src.set_data_handle(const_cast<float*>(in.data()));
  dst.set_data_handle(out.data());
  fwd.execute(stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
  stream().wait();
}

void ResamplingPlan::adjoint(const Tensor& in, Tensor& out) {
  GANTRY_ASSERT(in.size() == y.size() && out.size() == dx.size());
  diff_dst.set_data_handle(const_cast<float*>(in.data()));
  diff_src.set_data_handle(out.data());
  bwd.execute(stream(), {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_SRC, diff_src}});
  stream().wait();
}

}  // namespace detail

ResamplingLayer::ResamplingLayer() = default;
ResamplingLayer::~ResamplingLayer() = default;

ResamplingPlan& ResamplingLayer::plan_for(const std::vector<int64_t>& shape) {
  auto it = plans_.find(shape);
  if (it != plans_.end()) return *it->second;
  return *plans_.emplace(shape, build_plan(shape)).first->second;
}

const Tensor& ResamplingLayer::forward(const Tensor& x, Mode /*mode*/) {
  ResamplingPlan& p = plan_for(x.shape());
  p.apply(x, p.y);
  last_ = &p;
  return p.y;
}

// The map does not read its input backwards (nearest and average are fixed linear maps).
const Tensor& ResamplingLayer::backward(const Tensor& dy, BackwardOptions options) {
  GANTRY_ASSERT(last_ != nullptr);
  if (!options.input_grad) return empty_tensor();
  last_->adjoint(dy, last_->dx);
  return last_->dx;
}

DualTensors ResamplingLayer::forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode) {
  GANTRY_ASSERT(x_dot.size() == x.size());
  forward(x, mode);
  ResamplingPlan& p = *last_;
  if (p.y_dot.size() != p.y.size()) {
    p.y_dot = Tensor(p.y.shape());
    p.x_bar = Tensor(x.shape());
    p.x_dot_bar = Tensor(x.shape());
  }
  p.apply(x_dot, p.y_dot);
  return {&p.y, &p.y_dot};
}

// Linear: no second-order term, so x̄ = Aᵀȳ and ẋ̄ = Aᵀẏ̄, each zero (empty) when its adjoint is.
DualTensors ResamplingLayer::backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options) {
  GANTRY_ASSERT(last_ != nullptr);
  ResamplingPlan& p = *last_;
  const Tensor& none = empty_tensor();
  if (!options.input_grad) return {&none, &none};
  if (y_bar.size() > 0) p.adjoint(y_bar, p.x_bar);
  if (y_dot_bar.size() > 0) p.adjoint(y_dot_bar, p.x_dot_bar);
  return {y_bar.size() > 0 ? &p.x_bar : &none, y_dot_bar.size() > 0 ? &p.x_dot_bar : &none};
}

Upsample2d::Upsample2d(int64_t scale) : scale_(scale) { GANTRY_ASSERT(scale >= 1); }

std::string Upsample2d::describe() const { return fmt::format("Upsample2d(×{})", scale_); }

std::unique_ptr<ResamplingPlan> Upsample2d::build_plan(const std::vector<int64_t>& shape) {
  if (shape.size() != 4)
    throw Error(fmt::format("{} needs images [N, C, H, W], got {}", describe(), shape_string(shape)));
  const std::vector<int64_t> out{shape[0], shape[1], shape[2] * scale_, shape[3] * scale_};
  const auto src_md = plain_md(shape), dst_md = plain_md(out);
  const auto alg = dnnl::algorithm::resampling_nearest;
  auto fwd_pd = dnnl::resampling_forward::primitive_desc(
      {dnnl::prop_kind::forward_training, alg, src_md, dst_md}, engine());
  auto bwd_pd = dnnl::resampling_backward::primitive_desc({alg, src_md, dst_md}, engine(), fwd_pd);
  auto p = std::make_unique<ResamplingPlan>();
  p->fwd = dnnl::resampling_forward(fwd_pd);
  p->bwd = dnnl::resampling_backward(bwd_pd);
  p->bind(src_md, dst_md);
  return p;
}

AvgPool2d::AvgPool2d(int64_t kernel) : kernel_(kernel) { GANTRY_ASSERT(kernel >= 1); }

std::string AvgPool2d::describe() const { return fmt::format("AvgPool2d({})", kernel_); }

std::unique_ptr<ResamplingPlan> AvgPool2d::build_plan(const std::vector<int64_t>& shape) {
  // PyTorch drops the last rows and columns that do not fill a window; refusing keeps every input
  // value in the output, which is what the ResNet critics at 28 and 32 pixels rely on.
  if (shape.size() != 4 || shape[2] % kernel_ != 0 || shape[3] % kernel_ != 0)
    throw Error(fmt::format("{} needs images [N, C, H, W] with H and W multiples of {}, got {}", describe(), kernel_,
                            shape_string(shape)));
  const std::vector<int64_t> out{shape[0], shape[1], shape[2] / kernel_, shape[3] / kernel_};
  const auto src_md = plain_md(shape), dst_md = plain_md(out);
  const auto alg = dnnl::algorithm::pooling_avg_exclude_padding;  // no padding: a plain mean
  const dnnl::memory::dims strides{kernel_, kernel_}, kernel{kernel_, kernel_}, pad{0, 0};
  auto fwd_pd = dnnl::pooling_forward::primitive_desc(
      {dnnl::prop_kind::forward_training, alg, src_md, dst_md, strides, kernel, pad, pad}, engine());
  auto bwd_pd =
      dnnl::pooling_backward::primitive_desc({alg, src_md, dst_md, strides, kernel, pad, pad}, engine(), fwd_pd);
  auto p = std::make_unique<ResamplingPlan>();
  p->fwd = dnnl::pooling_forward(fwd_pd);
  p->bwd = dnnl::pooling_backward(bwd_pd);
  p->bind(src_md, dst_md);
  return p;
}

}  // namespace gantry
