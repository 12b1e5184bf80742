#include "weighted.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <cmath>
#include <fmt/format.h>

namespace gantry {

using namespace detail;
using dnnl::memory;

// PyTorch takes the fan-in of a transposed convolution from the weight's second axis (OC·K·K).
ConvTranspose2d::ConvTranspose2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride,
                                 int64_t padding, Rng& init_rng)
    : WeightedLayer({in_channels, out_channels, kernel, kernel}, out_channels,
                    1.0f / std::sqrt(static_cast<float>(out_channels * kernel * kernel)), init_rng),
      in_(in_channels), out_(out_channels), kernel_(kernel), stride_(stride), padding_(padding) {
  GANTRY_ASSERT(in_ > 0 && out_ > 0 && kernel_ > 0 && stride_ > 0 && padding_ >= 0);
}

std::string ConvTranspose2d::describe() const {
  return fmt::format("ConvTranspose2d({}, {}, k{}, s{}, p{})", in_, out_, kernel_, stride_, padding_);
}

std::unique_ptr<WeightedPlan> ConvTranspose2d::build_plan(const std::vector<int64_t>& shape) {
  if (shape.size() != 4 || shape[1] != in_)
    throw Error(fmt::format("{} needs input [N, {}, H, W], got {}", describe(), in_, shape_string(shape)));
  const int64_t n = shape[0];
  const int64_t oh = (shape[2] - 1) * stride_ - 2 * padding_ + kernel_;
  const int64_t ow = (shape[3] - 1) * stride_ - 2 * padding_ + kernel_;
  if (oh <= 0 || ow <= 0) throw Error(fmt::format("{}: input {} is too small", describe(), shape_string(shape)));
  // oneDNN indexes deconvolution weights (out, in, kh, kw); tag iohw lays them out in memory as
  // PyTorch's [in, out, kh, kw], so the weights need no transposition.
  const memory::desc w_md({out_, in_, kernel_, kernel_}, dt::f32, tag::iohw);
  return make_conv_plan<dnnl::deconvolution_forward, dnnl::deconvolution_backward_data,
                        dnnl::deconvolution_backward_weights>(
      dnnl::algorithm::deconvolution_direct, plain_md(shape), w_md, plain_md({out_}), plain_md({n, out_, oh, ow}),
      stride_, padding_, prefers_blocked(in_, out_), primitive_weight(), bias_);
}

}  // namespace gantry
