#pragma once
// Finite-difference gradient checks shared by the layer and loss tests.
#include <gantry/layer.hpp>
#include <gantry/random.hpp>
#include <gantry/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <gtest/gtest.h>
#include <vector>

namespace gantry::test {

/// max |a - b| / max(1, |b|) over the elements: absolute near zero, relative elsewhere.
inline double max_rel_error(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(1.0, std::abs(b[i])));
  return worst;
}

inline std::vector<double> as_doubles(const Tensor& t) { return {t.values().begin(), t.values().end()}; }

/// Central differences of f with respect to each element of `x`, perturbing it in place.
inline std::vector<double> numeric_gradient(std::span<float> x, const std::function<double()>& f, float eps) {
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const float saved = x[i];
    x[i] = saved + eps;
    const double up = f();
    x[i] = saved - eps;
    const double down = f();
    x[i] = saved;
    g[i] = (up - down) / (2.0 * static_cast<double>(eps));
  }
  return g;
}

/// Checks a layer's input and parameter gradients for L = Σ y·r with a fixed random r.
/// Runs forward/backward in `mode`; `eps` and `tol` suit fp32.
inline void check_layer_gradients(Layer& layer, Tensor x, uint64_t seed, float eps = 1e-2f, double tol = 2e-3,
                                  Mode mode = Mode::train) {
  Rng rng(seed);
  const Tensor& y0 = layer.forward(x, mode);
  Tensor r(y0.shape());
  rng.fill_normal(r.values());
  auto objective = [&] {
    const Tensor& y = layer.forward(x, mode);
    double s = 0;
    for (int64_t i = 0; i < y.size(); ++i) s += static_cast<double>(y[i]) * r[i];
    return s;
  };
  layer.zero_grad();
  layer.forward(x, mode);
  const Tensor dx = layer.backward(r);
  std::vector<std::vector<double>> analytic;
  for (Parameter* p : layer.parameters()) analytic.push_back(as_doubles(p->gradient()));

  EXPECT_LT(max_rel_error(as_doubles(dx), numeric_gradient(x.values(), objective, eps)), tol) << "input gradient";
  size_t k = 0;
  for (Parameter* p : layer.parameters()) {
    EXPECT_LT(max_rel_error(analytic[k++], numeric_gradient(p->value.values(), objective, eps)), tol)
        << "gradient of " << p->name;
  }
}

}  // namespace gantry::test
