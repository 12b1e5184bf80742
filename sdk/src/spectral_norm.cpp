#include "spectral_norm.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <cmath>

namespace gantry::detail {

namespace {

// The loops below run a few times per training step over every weight of a normalised layer, so
// they are compiled for AVX-512, AVX2 and the baseline (the SDK itself targets any x86-64) and
// picked at load time, as Adam's update is. Sums are taken in double: one over a 3×3×256×256
// convolution's weights adds 590k terms.

__attribute__((target_clones("avx512f", "avx2", "default"))) double dot(const float* __restrict a,
                                                                        const float* __restrict b, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return s;
}

// out = Wᵀu, row by row, so each out[j] is summed in row order whatever the vector width.
__attribute__((target_clones("avx512f", "avx2", "default"))) void transposed_product(
    const float* __restrict w, const float* __restrict u, int64_t rows, int64_t cols, float* __restrict out) {
  std::fill(out, out + cols, 0.0f);
  for (int64_t i = 0; i < rows; ++i) {
    const float ui = u[i];
    const float* row = w + i * cols;
    for (int64_t j = 0; j < cols; ++j) out[j] += ui * row[j];
  }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void scale(const float* __restrict in, float factor,
                                                                       int64_t n, float* __restrict out) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] * factor;
}

// out[i, j] = (g[i, j] − c·u[i]·v[j]) · inv_sigma
__attribute__((target_clones("avx512f", "avx2", "default"))) void remove_sigma_direction(
    const float* __restrict g, const float* __restrict u, const float* __restrict v, float c, float inv_sigma,
    int64_t rows, int64_t cols, float* __restrict out) {
  for (int64_t i = 0; i < rows; ++i) {
    const float cu = c * u[i];
    const float* gi = g + i * cols;
    float* oi = out + i * cols;
    for (int64_t j = 0; j < cols; ++j) oi[j] = (gi[j] - cu * v[j]) * inv_sigma;
  }
}

// x / max(‖x‖, 1e-12), PyTorch's F.normalize.
void normalize(Tensor& x) {
  const double norm = std::sqrt(dot(x.data(), x.data(), x.size()));
  scale(x.data(), static_cast<float>(1.0 / std::max(norm, 1e-12)), x.size(), x.data());
}

}  // namespace

SpectralNorm::SpectralNorm(const std::vector<int64_t>& weight_shape, Rng& init_rng)
    : u({weight_shape.at(0)}),
      v({element_count(weight_shape) / weight_shape.at(0)}),
      rows_(u.size()),
      cols_(v.size()),
      weight_sn_("weight", Tensor(weight_shape)),
      wv_({rows_}),
      grad_scratch_(weight_shape) {
  init_rng.fill_normal(u.values());
  init_rng.fill_normal(v.values());
  normalize(u);
  normalize(v);
}

void SpectralNorm::normalise(const Tensor& w, bool iterate) {
  GANTRY_ASSERT(w.size() == rows_ * cols_ && u.size() == rows_ && v.size() == cols_);
  if (iterate) {
    transposed_product(w.data(), u.data(), rows_, cols_, v.data());
    normalize(v);
  }
  for (int64_t i = 0; i < rows_; ++i) wv_[i] = static_cast<float>(dot(w.data() + i * cols_, v.data(), cols_));
  if (iterate) {
    std::copy_n(wv_.data(), rows_, u.data());
    normalize(u);
  }
  // σ = uᵀWv with the u and v just computed (or stored, without an iteration), as PyTorch does.
  sigma_ = static_cast<float>(dot(u.data(), wv_.data(), rows_));
  scale(w.data(), 1.0f / sigma_, w.size(), weight_sn_.value.data());
}

void SpectralNorm::add_gradient(Parameter& w) {
  const Tensor& g = weight_sn_.gradient();
  const auto c = static_cast<float>(dot(g.data(), weight_sn_.value.data(), g.size()));
  Tensor& out = w.write_buffer(grad_scratch_);
  remove_sigma_direction(g.data(), u.data(), v.data(), c, 1.0f / sigma_, rows_, cols_, out.data());
  w.commit(grad_scratch_);
}

}  // namespace gantry::detail
