#include "weighted.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <cmath>
#include <fmt/format.h>

namespace gantry {

using namespace detail;

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, int64_t padding,
               Rng& init_rng)
    : WeightedLayer({out_channels, in_channels, kernel, kernel}, out_channels,
                    1.0f / std::sqrt(static_cast<float>(in_channels * kernel * kernel)), init_rng),
      in_(in_channels), out_(out_channels), kernel_(kernel), stride_(stride), padding_(padding) {
  GANTRY_ASSERT(in_ > 0 && out_ > 0 && kernel_ > 0 && stride_ > 0 && padding_ >= 0);
}

std::string Conv2d::describe() const {
  return fmt::format("Conv2d({}, {}, k{}, s{}, p{}{})", in_, out_, kernel_, stride_, padding_, describe_suffix());
}

// The primitives are created with format `any`: oneDNN picks its preferred (blocked) layouts,
// and the plan reorders at the layer's boundary, where tensors are plain NCHW / OIHW.
std::unique_ptr<WeightedPlan> Conv2d::build_plan(const std::vector<int64_t>& shape) {
  if (shape.size() != 4 || shape[1] != in_)
    throw Error(fmt::format("{} needs input [N, {}, H, W], got {}", describe(), in_, shape_string(shape)));
  const int64_t n = shape[0], h = shape[2], w = shape[3];
  const int64_t oh = (h + 2 * padding_ - kernel_) / stride_ + 1, ow = (w + 2 * padding_ - kernel_) / stride_ + 1;
  if (oh <= 0 || ow <= 0) throw Error(fmt::format("{}: input {} is too small", describe(), shape_string(shape)));
  return make_conv_plan<dnnl::convolution_forward, dnnl::convolution_backward_data,
                        dnnl::convolution_backward_weights>(
      dnnl::algorithm::convolution_direct, plain_md(shape), plain_md(weight_.value.shape()), plain_md({out_}),
      plain_md({n, out_, oh, ow}), stride_, padding_, prefers_blocked(in_, out_), primitive_weight(), bias_);
}

}  // namespace gantry
