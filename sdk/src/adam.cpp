#include <gantry/error.hpp>
#include <gantry/optimizer.hpp>

#include <cmath>
#include <omp.h>

namespace gantry {

namespace {

struct AdamCoefficients {
  float b1, b2, step_size, inv_sqrt_bc2, eps;
};

// The update of one range, compiled for AVX-512, AVX2 and the baseline, picked at load time:
// gantry is built for any x86-64, and this loop is where vector width pays off.
__attribute__((target_clones("avx512f", "avx2", "default"))) void adam_range(
    float* __restrict w, float* __restrict m, float* __restrict v, const float* __restrict g, int64_t n,
    AdamCoefficients c) {
  for (int64_t i = 0; i < n; ++i) {
    m[i] = c.b1 * m[i] + (1.0f - c.b1) * g[i];
    v[i] = c.b2 * v[i] + (1.0f - c.b2) * g[i] * g[i];
    w[i] -= c.step_size * m[i] / (std::sqrt(v[i]) * c.inv_sqrt_bc2 + c.eps);
  }
}

}  // namespace

Adam::Adam(std::vector<Parameter*> params, AdamOptions options)
    : params_(std::move(params)), opt_(options) {
  for (Parameter* p : params_) {
    m_.emplace_back(p->value.shape());
    v_.emplace_back(p->value.shape());
  }
}

std::vector<Tensor*> Adam::moments() {
  std::vector<Tensor*> out;
  for (size_t k = 0; k < m_.size(); ++k) out.insert(out.end(), {&m_[k], &v_[k]});
  return out;
}

void Adam::zero_grad() {
  for (Parameter* p : params_) p->zero_grad();
}

void Adam::step() {
  ++t_;
  const double bc1 = 1.0 - std::pow(opt_.beta1, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(opt_.beta2, static_cast<double>(t_));
  const AdamCoefficients c{static_cast<float>(opt_.beta1), static_cast<float>(opt_.beta2),
                           static_cast<float>(opt_.lr / bc1), static_cast<float>(1.0 / std::sqrt(bc2)),
                           static_cast<float>(opt_.eps)};
  for (size_t k = 0; k < params_.size(); ++k) {
    Parameter& p = *params_[k];
    const float* g = p.gradient().data();
    float* w = p.value.data();
    float* m = m_[k].data();
    float* v = v_[k].data();
    const int64_t n = p.value.size();
    // Memory-bound (seven streams per weight): worth both cores for the big matrices only.
#pragma omp parallel if (n >= 65536)
    {
      const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
      const int64_t begin = n * t / threads, end = n * (t + 1) / threads;
      adam_range(w + begin, m + begin, v + begin, g + begin, end - begin, c);
    }
  }
}

}  // namespace gantry
