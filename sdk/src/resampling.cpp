#include "resampling.hpp"

#include "dnnl_util.hpp"  // empty_tensor

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <algorithm>
#include <fmt/format.h>

namespace gantry {

using namespace detail;

namespace detail {

namespace {

// small[p, i, j] = Σ over the k×k block of large[p] at (i, j), divided by `divisor`, summed row by
// row as oneDNN's pooling does. Loops, not oneDNN primitives: on plain layouts oneDNN has only
// its reference kernels for these maps (docs/ARCHITECTURE.md, "Pooling and upsampling").
void block_sum(const float* large, float* small, int64_t planes, int64_t h, int64_t w, int64_t k, float divisor) {
  const int64_t lw = w * k, plane = h * w;
#pragma omp parallel for schedule(static) if (planes * plane * k * k >= 65536)
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = large + p * plane * k * k;
    float* out = small + p * plane;
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        float s = 0;
        for (int64_t a = 0; a < k; ++a)
          for (int64_t b = 0; b < k; ++b) s += in[(i * k + a) * lw + j * k + b];
        out[i * w + j] = s / divisor;
      }
  }
}

// large[p, I, J] = small[p, I/k, J/k] / divisor.
void block_spread(const float* small, float* large, int64_t planes, int64_t h, int64_t w, int64_t k, float divisor) {
  const int64_t lw = w * k, plane = h * w;
#pragma omp parallel for schedule(static) if (planes * plane * k * k >= 65536)
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = small + p * plane;
    float* out = large + p * plane * k * k;
    for (int64_t i = 0; i < h; ++i) {
      float* row = out + i * k * lw;
      for (int64_t j = 0; j < w; ++j) {
        const float v = in[i * w + j] / divisor;
        for (int64_t b = 0; b < k; ++b) row[j * k + b] = v;
      }
      for (int64_t a = 1; a < k; ++a) std::copy_n(row, lw, row + a * lw);
    }
  }
}

}  // namespace

ResamplingPlan::ResamplingPlan(Map map_, const std::vector<int64_t>& input_shape,
                               const std::vector<int64_t>& output_shape, int64_t k_)
    : map(map_), planes(input_shape[0] * input_shape[1]), k(k_), y(output_shape), dx(input_shape) {
  const auto& small = map == Map::average_pool ? output_shape : input_shape;
  small_h = small[2];
  small_w = small[3];
}

void ResamplingPlan::apply(const Tensor& in, Tensor& out) const {
  GANTRY_ASSERT(in.size() == dx.size() && out.size() == y.size());
  if (map == Map::average_pool) block_sum(in.data(), out.data(), planes, small_h, small_w, k, static_cast<float>(k * k));
  else block_spread(in.data(), out.data(), planes, small_h, small_w, k, 1.0f);
}

void ResamplingPlan::adjoint(const Tensor& in, Tensor& out) const {
  GANTRY_ASSERT(in.size() == y.size() && out.size() == dx.size());
  if (map == Map::average_pool) block_spread(in.data(), out.data(), planes, small_h, small_w, k, static_cast<float>(k * k));
  else block_sum(in.data(), out.data(), planes, small_h, small_w, k, 1.0f);
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
  return std::make_unique<ResamplingPlan>(ResamplingPlan::Map::nearest_upsample, shape, out, scale_);
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
  return std::make_unique<ResamplingPlan>(ResamplingPlan::Map::average_pool, shape, out, kernel_);
}

}  // namespace gantry
