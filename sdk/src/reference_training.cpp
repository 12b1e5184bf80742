#include "reference_training.hpp"

#include "exact_gemm.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace gantry::detail {
namespace {

constexpr int64_t side = 28, hidden = 128, classes = 10;

float* ptr(std::vector<float>& v) { return v.data(); }

// cols [rows, taps]: for each output pixel, its receptive field in (channel, kh, kw) order, the
// flattening of an OIHW weight's row.
void im2col(const ConvGeometry& g, const float* in, float* cols) {
  const int64_t oh = g.out_height(), ow = g.out_width(), taps = g.taps();
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < g.rows(); ++m) {
    const int64_t b = m / (oh * ow), y = (m / ow) % oh, x = m % ow;
    float* row = cols + m * taps;
    for (int64_t c = 0; c < g.in_channels; ++c)
      for (int64_t kh = 0; kh < g.kernel; ++kh)
        for (int64_t kw = 0; kw < g.kernel; ++kw) {
          const int64_t ih = y * g.stride - g.padding + kh, iw = x * g.stride - g.padding + kw;
          const bool inside = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width;
          *row++ = inside ? in[((b * g.height + ih) * g.width + iw) * g.in_channels + c] : 0.0f;
        }
  }
}

// The adjoint of im2col. Each image gathers only from its own rows, in a fixed order, so images
// can go to different threads.
void col2im(const ConvGeometry& g, const float* cols, float* in_grad) {
  const int64_t oh = g.out_height(), ow = g.out_width(), taps = g.taps();
  const int64_t image = g.height * g.width * g.in_channels;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < g.batch; ++b) {
    float* dst = in_grad + b * image;
    std::fill(dst, dst + image, 0.0f);
    for (int64_t p = 0; p < oh * ow; ++p) {
      const float* row = cols + (b * oh * ow + p) * taps;
      const int64_t y = p / ow, x = p % ow;
      for (int64_t c = 0; c < g.in_channels; ++c)
        for (int64_t kh = 0; kh < g.kernel; ++kh)
          for (int64_t kw = 0; kw < g.kernel; ++kw, ++row) {
            const int64_t ih = y * g.stride - g.padding + kh, iw = x * g.stride - g.padding + kw;
            if (ih >= 0 && ih < g.height && iw >= 0 && iw < g.width) dst[(ih * g.width + iw) * g.in_channels + c] += *row;
          }
    }
  }
}

// y [rows, out] = x [rows, in] · Wᵀ + bias, then ReLU when asked. `weight_t` receives Wᵀ.
void dense(const float* x, int64_t rows, const Parameter& w, const Parameter& bias, std::vector<float>& weight_t,
           float* y, bool relu) {
  const int64_t out = w.value.dim(0), in = w.value.size() / out;
  weight_t.resize(static_cast<size_t>(in * out));
  transpose(w.value.data(), out, in, weight_t.data());
  exact_gemm({rows, out, in, in, out, out}, x, weight_t.data(), y, false);
  const float* b = bias.value.data();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      const float v = y[r * out + o] + b[o];
      y[r * out + o] = relu ? std::max(v, 0.0f) : v;
    }
}

// dy *= [h > 0]: ReLU's derivative, read from its output.
void relu_backward(const float* h, float* dy, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    if (!(h[i] > 0.0f)) dy[i] = 0.0f;
}

// Writes a pass's gradient into `p` through the accumulation API.
template <class Fill>
void write_gradient(Parameter& p, Tensor& scratch, Fill fill) {
  Tensor& out = p.write_buffer(scratch);
  fill(out.data());
  p.commit(scratch);
}

}  // namespace

double exact_exp(double x) {
  if (!(x > -745.0)) return 0.0;
  if (x > 709.0) return HUGE_VAL;
  // x = n·ln2 + r with |r| ≤ ln2/2, ln2 split in two so n·ln2_hi is exact; then a Taylor
  // polynomial of degree 13 (remainder < 1e-17 on that interval) and an exact scaling by 2ⁿ.
  constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  const double n = std::nearbyint(x * 1.44269504088896338700);
  const double r = (x - n * ln2_hi) - n * ln2_lo;
  double p = 1.0;
  for (int i = 13; i >= 1; --i) p = 1.0 + p * r / i;
  return std::ldexp(p, static_cast<int>(n));
}

ReferenceTrainer::ReferenceTrainer(std::vector<Parameter*> params, int64_t batch)
    : p_(std::move(params)),
      batch_(batch),
      conv1_{batch, 1, side, side, 32, 4, 2, 1},
      conv2_{batch, 32, side / 2, side / 2, 64, 4, 2, 1} {
  const std::vector<std::vector<int64_t>> shapes{{32, 1, 4, 4}, {32},      {64, 32, 4, 4}, {64},
                                                 {hidden, 3136}, {hidden}, {classes, hidden}, {classes}};
  if (p_.size() != shapes.size()) throw Error("the reference trainer needs the classifier's eight parameters");
  for (size_t i = 0; i < shapes.size(); ++i)
    if (p_[i]->value.shape() != shapes[i])
      throw Error(fmt::format("reference trainer: parameter {} has shape {}, expected {}", i + 1,
                              shape_string(p_[i]->value.shape()), shape_string(shapes[i])));
  auto sized = [](std::vector<float>& v, int64_t n) { v.assign(static_cast<size_t>(n), 0.0f); };
  sized(cols1_, conv1_.rows() * conv1_.taps());
  sized(h1_, conv1_.rows() * 32);
  sized(cols2_, conv2_.rows() * conv2_.taps());
  sized(h2_, conv2_.rows() * 64);
  sized(flat_, batch * 3136);
  sized(h3_, batch * hidden);
  sized(logits_, batch * classes);
  sized(g4_, batch * classes);
  sized(dh3_, batch * hidden);
  sized(dflat_, batch * 3136);
  sized(dh2_, conv2_.rows() * 64);
  sized(dcols2_, conv2_.rows() * conv2_.taps());
  sized(dh1_, conv1_.rows() * 32);
  dy_t_.reserve(static_cast<size_t>(conv1_.rows() * 32));  // the largest dy
  weight_t_.reserve(3136 * hidden);
  for (Parameter* p : p_) scratch_.emplace_back(p->value.shape());
}

void ReferenceTrainer::forward(const float* images) {
  im2col(conv1_, images, ptr(cols1_));  // one channel: NCHW and NHWC agree
  dense(ptr(cols1_), conv1_.rows(), *p_[0], *p_[1], weight_t_, ptr(h1_), true);
  im2col(conv2_, ptr(h1_), ptr(cols2_));
  dense(ptr(cols2_), conv2_.rows(), *p_[2], *p_[3], weight_t_, ptr(h2_), true);
  // NHWC [49, 64] per image → NCHW [64, 49], the order the oneDNN Linear layer was trained on.
  for (int64_t b = 0; b < batch_; ++b) transpose(ptr(h2_) + b * 3136, 49, 64, ptr(flat_) + b * 3136);
  dense(ptr(flat_), batch_, *p_[4], *p_[5], weight_t_, ptr(h3_), true);
  dense(ptr(h3_), batch_, *p_[6], *p_[7], weight_t_, ptr(logits_), false);
}

double ReferenceTrainer::step(const float* images, const uint8_t* labels) {
  forward(images);
  double total = 0;
  for (int64_t i = 0; i < batch_; ++i) {
    const float* z = ptr(logits_) + i * classes;
    float* g = ptr(g4_) + i * classes;
    const double top = *std::max_element(z, z + classes);
    double e[classes], sum = 0;
    for (int64_t j = 0; j < classes; ++j) sum += e[j] = exact_exp(z[j] - top);
    for (int64_t j = 0; j < classes; ++j)
      g[j] = static_cast<float>((e[j] / sum - (j == labels[i] ? 1.0 : 0.0)) / static_cast<double>(batch_));
    total += std::log(sum) + top - z[labels[i]];  // reported only; no weight depends on it
  }
  backward();
  return total / static_cast<double>(batch_);
}

// dW = dyᵀ·x and db = Σ dy over rows, into layer `layer`'s parameters; dx = dy·W unless null.
void ReferenceTrainer::dense_backward(const float* x, int64_t rows, size_t layer, const float* dy, float* dx) {
  Parameter& w = *p_[2 * layer];
  const int64_t out = w.value.dim(0), in = w.value.size() / out;
  dy_t_.resize(static_cast<size_t>(out * rows));  // within the capacity reserved at construction
  transpose(dy, rows, out, ptr(dy_t_));
  write_gradient(w, scratch_[2 * layer], [&](float* g) { exact_gemm({out, in, rows, rows, in, in}, ptr(dy_t_), x, g, false); });
  write_gradient(*p_[2 * layer + 1], scratch_[2 * layer + 1], [&](float* g) {
    std::fill(g, g + out, 0.0f);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < out; ++o) g[o] += dy[r * out + o];
  });
  if (dx != nullptr) exact_gemm({rows, in, out, out, in, in}, dy, w.value.data(), dx, false);
}

void ReferenceTrainer::backward() {
  dense_backward(ptr(h3_), batch_, 3, ptr(g4_), ptr(dh3_));
  relu_backward(ptr(h3_), ptr(dh3_), batch_ * hidden);
  dense_backward(ptr(flat_), batch_, 2, ptr(dh3_), ptr(dflat_));
  for (int64_t b = 0; b < batch_; ++b) transpose(ptr(dflat_) + b * 3136, 64, 49, ptr(dh2_) + b * 3136);
  relu_backward(ptr(h2_), ptr(dh2_), conv2_.rows() * 64);
  dense_backward(ptr(cols2_), conv2_.rows(), 1, ptr(dh2_), ptr(dcols2_));
  col2im(conv2_, ptr(dcols2_), ptr(dh1_));
  relu_backward(ptr(h1_), ptr(dh1_), conv1_.rows() * 32);
  dense_backward(ptr(cols1_), conv1_.rows(), 0, ptr(dh1_), nullptr);
}

}  // namespace gantry::detail
