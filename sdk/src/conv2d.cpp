#include "weighted.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <cmath>
#include <fmt/format.h>

namespace gantry {

using namespace detail;
using dnnl::memory;

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, int64_t padding,
               Rng& init_rng)
    : WeightedLayer({out_channels, in_channels, kernel, kernel}, out_channels,
                    1.0f / std::sqrt(static_cast<float>(in_channels * kernel * kernel)), init_rng),
      in_(in_channels), out_(out_channels), kernel_(kernel), stride_(stride), padding_(padding) {
  GANTRY_ASSERT(in_ > 0 && out_ > 0 && kernel_ > 0 && stride_ > 0 && padding_ >= 0);
}

std::string Conv2d::describe() const {
  return fmt::format("Conv2d({}, {}, k{}, s{}, p{})", in_, out_, kernel_, stride_, padding_);
}

// The primitives are created with format `any`: oneDNN picks its preferred (blocked) layouts,
// and the plan reorders at the layer's boundary, where tensors are plain NCHW / OIHW.
std::unique_ptr<WeightedPlan> Conv2d::build_plan(const std::vector<int64_t>& shape) {
  if (shape.size() != 4 || shape[1] != in_)
    throw Error(fmt::format("{} needs input [N, {}, H, W], got {}", describe(), in_, shape_string(shape)));
  const int64_t n = shape[0], h = shape[2], w = shape[3];
  const int64_t oh = (h + 2 * padding_ - kernel_) / stride_ + 1, ow = (w + 2 * padding_ - kernel_) / stride_ + 1;
  if (oh <= 0 || ow <= 0) throw Error(fmt::format("{}: input {} is too small", describe(), shape_string(shape)));
  auto p = std::make_unique<WeightedPlan>();
  const auto src_md = plain_md(shape);
  const auto w_md = plain_md(weight_.value.shape());
  const auto b_md = plain_md({out_});
  const auto dst_md = plain_md({n, out_, oh, ow});
  const bool blocked = prefers_blocked(in_, out_);
  const auto src_any = blocked ? any_md(src_md) : src_md, w_any = blocked ? any_md(w_md) : w_md,
             dst_any = blocked ? any_md(dst_md) : dst_md;
  const memory::dims strides{stride_, stride_}, pad{padding_, padding_};
  auto fwd_pd = dnnl::convolution_forward::primitive_desc(
      {dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src_any, w_any, b_md, dst_any,
       strides, pad, pad},
      engine());
  auto bwd_data_pd = dnnl::convolution_backward_data::primitive_desc(
      {dnnl::algorithm::convolution_direct, src_any, w_any, dst_any, strides, pad, pad}, engine(), fwd_pd);
  auto bwd_w_pd = dnnl::convolution_backward_weights::primitive_desc(
      {dnnl::algorithm::convolution_direct, src_any, w_any, b_md, dst_any, strides, pad, pad}, engine(), fwd_pd);
  p->fwd = dnnl::convolution_forward(fwd_pd);
  p->bwd_data = dnnl::convolution_backward_data(bwd_data_pd);
  p->bwd_weights = dnnl::convolution_backward_weights(bwd_w_pd);
  p->bind(src_md, w_md, b_md, dst_md, Layouts::of(fwd_pd, bwd_data_pd, bwd_w_pd), weight_, bias_);
  return p;
}

}  // namespace gantry
