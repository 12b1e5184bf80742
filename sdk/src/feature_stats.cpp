#include <gantry/error.hpp>
#include <gantry/feature_stats.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numeric>
#include <oneapi/dnnl/dnnl.hpp>

namespace gantry {
namespace {

void check_features(const Tensor& x, const char* what) {
  if (x.rank() != 2 || x.dim(0) < 2) throw Error(fmt::format("{}: need features [N ≥ 2, D], got {}", what, shape_string(x.shape())));
}

// C[m×n] = A[m×k] · B[n×k]ᵀ on oneDNN's sgemm (row-major).
void gemm_nt(const float* a, int64_t m, const float* b, int64_t n, int64_t k, float* c) {
  if (dnnl::sgemm('N', 'T', m, n, k, 1.0f, a, k, b, k, 0.0f, c, n) != dnnl::status::success)
    throw Error("sgemm failed");
}

std::vector<float> row_norms2(const Tensor& x) {
  const int64_t n = x.dim(0), d = x.dim(1);
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += static_cast<double>(x[i * d + j]) * x[i * d + j];
    out[static_cast<size_t>(i)] = static_cast<float>(s);
  }
  return out;
}

constexpr int64_t block_rows = 256;

}  // namespace

FeatureGaussian fit_gaussian(const Tensor& features) {
  check_features(features, "fit_gaussian");
  const int64_t n = features.dim(0), d = features.dim(1);
  FeatureGaussian g{d, std::vector<double>(static_cast<size_t>(d)), std::vector<double>(static_cast<size_t>(d * d))};
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) g.mean[static_cast<size_t>(j)] += features[i * d + j];
  for (double& m : g.mean) m /= static_cast<double>(n);
  std::vector<double> centred(static_cast<size_t>(d));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < d; ++j) centred[static_cast<size_t>(j)] = features[i * d + j] - g.mean[static_cast<size_t>(j)];
    for (int64_t a = 0; a < d; ++a) {
      const double ca = centred[static_cast<size_t>(a)];
      double* row = g.cov.data() + a * d;
      for (int64_t b = a; b < d; ++b) row[b] += ca * centred[static_cast<size_t>(b)];
    }
  }
  for (int64_t a = 0; a < d; ++a)
    for (int64_t b = a; b < d; ++b) {
      const double v = g.cov[static_cast<size_t>(a * d + b)] / static_cast<double>(n - 1);
      g.cov[static_cast<size_t>(a * d + b)] = g.cov[static_cast<size_t>(b * d + a)] = v;
    }
  return g;
}

std::vector<double> symmetric_eigen(std::vector<double> a, int64_t n, std::vector<double>* vectors) {
  GANTRY_ASSERT(static_cast<int64_t>(a.size()) == n * n);
  std::vector<double> v(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i * n + i)] = 1.0;
  auto at = [&](int64_t i, int64_t j) -> double& { return a[static_cast<size_t>(i * n + j)]; };
  double total = 0;
  for (double x : a) total += x * x;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = p + 1; q < n; ++q) off += at(p, q) * at(p, q);
    if (off <= 1e-30 * total || off == 0) break;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = p + 1; q < n; ++q) {
        const double apq = at(p, q);
        if (std::abs(apq) < 1e-300) continue;
        // The rotation that zeroes a[p][q] (Golub & Van Loan, Algorithm 8.5.1).
        const double theta = (at(q, q) - at(p, p)) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int64_t k = 0; k < n; ++k) {
          const double akp = at(k, p), akq = at(k, q);
          at(k, p) = c * akp - s * akq;
          at(k, q) = s * akp + c * akq;
        }
        for (int64_t k = 0; k < n; ++k) {
          const double apk = at(p, k), aqk = at(q, k);
          at(p, k) = c * apk - s * aqk;
          at(q, k) = s * apk + c * aqk;
        }
        for (int64_t k = 0; k < n; ++k) {
          double& vkp = v[static_cast<size_t>(k * n + p)];
          double& vkq = v[static_cast<size_t>(k * n + q)];
          const double x = vkp, y = vkq;
          vkp = c * x - s * y;
          vkq = s * x + c * y;
        }
      }
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t i, int64_t j) { return at(i, i) < at(j, j); });
  std::vector<double> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[static_cast<size_t>(i)] = at(order[static_cast<size_t>(i)], order[static_cast<size_t>(i)]);
  if (vectors != nullptr) {
    vectors->assign(static_cast<size_t>(n * n), 0.0);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t i = 0; i < n; ++i)
        (*vectors)[static_cast<size_t>(r * n + i)] = v[static_cast<size_t>(r * n + order[static_cast<size_t>(i)])];
  }
  return values;
}

double frechet_distance(const FeatureGaussian& a, const FeatureGaussian& b) {
  if (a.dim != b.dim) throw Error(fmt::format("frechet_distance: {} against {} dimensions", a.dim, b.dim));
  const int64_t d = a.dim;
  const auto n = static_cast<size_t>(d);
  double mean_term = 0, trace = 0;
  for (size_t i = 0; i < n; ++i) {
    mean_term += (a.mean[i] - b.mean[i]) * (a.mean[i] - b.mean[i]);
    trace += a.cov[i * n + i] + b.cov[i * n + i];
  }
  // S = Σa^½ (clipping the tiny negative eigenvalues of a rank-deficient estimate), then
  // M = S Σb S, symmetric positive semi-definite with the eigenvalues of Σa Σb.
  std::vector<double> vecs;
  const std::vector<double> lambda = symmetric_eigen(a.cov, d, &vecs);
  std::vector<double> root(n), s(n * n, 0.0);
  for (size_t k = 0; k < n; ++k) root[k] = std::sqrt(std::max(lambda[k], 0.0));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) {
      double x = 0;
      for (size_t k = 0; k < n; ++k) x += vecs[i * n + k] * root[k] * vecs[j * n + k];
      s[i * n + j] = x;
    }
  std::vector<double> tmp(n * n, 0.0), m(n * n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < n; ++k) {
      const double sik = s[i * n + k];
      for (size_t j = 0; j < n; ++j) tmp[i * n + j] += sik * b.cov[k * n + j];
    }
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < n; ++k) {
      const double tik = tmp[i * n + k];
      for (size_t j = 0; j < n; ++j) m[i * n + j] += tik * s[k * n + j];
    }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) m[i * n + j] = m[j * n + i] = 0.5 * (m[i * n + j] + m[j * n + i]);
  double root_trace = 0;
  for (double mu : symmetric_eigen(std::move(m), d)) root_trace += std::sqrt(std::max(mu, 0.0));
  return std::max(0.0, mean_term + trace - 2 * root_trace);
}

double kernel_inception_distance(const Tensor& x, const Tensor& y, int64_t subsets, int64_t subset_size, Rng& rng) {
  check_features(x, "kernel_inception_distance");
  check_features(y, "kernel_inception_distance");
  if (x.dim(1) != y.dim(1)) throw Error("kernel_inception_distance: the sets differ in dimension");
  const int64_t d = x.dim(1), m = std::min({subset_size, x.dim(0), y.dim(0)});
  GANTRY_ASSERT(m >= 2 && subsets >= 1);
  Tensor xs({m, d}), ys({m, d});
  std::vector<float> gram(static_cast<size_t>(m * m));
  std::vector<int64_t> idx;
  auto pick = [&](const Tensor& from, Tensor& into) {
    // m distinct rows: a partial Fisher–Yates shuffle of the indices.
    idx.resize(static_cast<size_t>(from.dim(0)));
    std::iota(idx.begin(), idx.end(), 0);
    for (int64_t i = 0; i < m; ++i) {
      std::swap(idx[static_cast<size_t>(i)], idx[static_cast<size_t>(i) + rng.below(idx.size() - static_cast<size_t>(i))]);
      std::copy_n(from.data() + idx[static_cast<size_t>(i)] * d, d, into.data() + i * d);
    }
  };
  auto kernel_sum = [&](const Tensor& a, const Tensor& b, bool skip_diagonal) {
    gemm_nt(a.data(), m, b.data(), m, d, gram.data());
    double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < m; ++j) {
        if (skip_diagonal && i == j) continue;
        const double k = static_cast<double>(gram[static_cast<size_t>(i * m + j)]) / static_cast<double>(d) + 1.0;
        s += k * k * k;
      }
    return s;
  };
  double total = 0;
  const double mm = static_cast<double>(m);
  for (int64_t s = 0; s < subsets; ++s) {
    pick(x, xs);
    pick(y, ys);
    total += kernel_sum(xs, xs, true) / (mm * (mm - 1)) + kernel_sum(ys, ys, true) / (mm * (mm - 1)) -
             2 * kernel_sum(xs, ys, false) / (mm * mm);
  }
  return total / static_cast<double>(subsets);
}

void squared_distances(const Tensor& x, int64_t first, int64_t rows, const Tensor& y, std::vector<float>& out) {
  const int64_t d = x.dim(1), n = y.dim(0);
  out.resize(static_cast<size_t>(rows * n));
  gemm_nt(x.data() + first * d, rows, y.data(), n, d, out.data());
  const std::vector<float> yn = row_norms2(y);
  for (int64_t i = 0; i < rows; ++i) {
    double xn = 0;
    for (int64_t j = 0; j < d; ++j) xn += static_cast<double>(x[(first + i) * d + j]) * x[(first + i) * d + j];
    float* row = out.data() + i * n;
    for (int64_t j = 0; j < n; ++j) row[j] = std::max(0.0f, static_cast<float>(xn) + yn[static_cast<size_t>(j)] - 2 * row[j]);
  }
}

std::vector<std::vector<float>> knn_radii2(const Tensor& x, const std::vector<int64_t>& ks) {
  check_features(x, "knn_radii2");
  const int64_t n = x.dim(0);
  for (int64_t k : ks)
    if (k < 1 || k >= n) throw Error(fmt::format("k-NN radii: k = {} needs between 1 and {}", k, n - 1));
  // Largest k first: each later nth_element only needs the part before the previous k.
  std::vector<size_t> order(ks.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ks[a] > ks[b]; });
  std::vector<std::vector<float>> radii(ks.size(), std::vector<float>(static_cast<size_t>(n)));
  std::vector<float> dist;
  for (int64_t first = 0; first < n; first += block_rows) {
    const int64_t rows = std::min(block_rows, n - first);
    squared_distances(x, first, rows, x, dist);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < rows; ++i) {
      float* row = dist.data() + i * n;
      row[first + i] = -1.0f;  // itself: sorts first, so index k is the k-th other point
      int64_t end = n;
      for (size_t o : order) {
        const int64_t k = ks[o];
        std::nth_element(row, row + k, row + end);
        radii[o][static_cast<size_t>(first + i)] = row[k];
        end = k;
      }
    }
  }
  return radii;
}

std::vector<float> knn_radii2(const Tensor& x, int64_t k) { return knn_radii2(x, std::vector<int64_t>{k}).front(); }

Prdc precision_recall_density_coverage(const Tensor& real, const std::vector<float>& real_pr2,
                                       const std::vector<float>& real_dc2, const Tensor& fake, int64_t pr_k,
                                       int64_t dc_k) {
  check_features(real, "precision/recall");
  check_features(fake, "precision/recall");
  const int64_t n = real.dim(0), m = fake.dim(0);
  GANTRY_ASSERT(static_cast<int64_t>(real_pr2.size()) == n && static_cast<int64_t>(real_dc2.size()) == n);
  const std::vector<float> fake_pr2 = knn_radii2(fake, pr_k);
  std::vector<char> fake_in_real(static_cast<size_t>(m), 0), real_in_fake(static_cast<size_t>(n), 0),
      real_covered(static_cast<size_t>(n), 0);
  double inside = 0;  // Σ over (real ball, fake sample) pairs with the sample in the ball
  std::vector<float> dist;
  for (int64_t first = 0; first < n; first += block_rows) {
    const int64_t rows = std::min(block_rows, n - first);
    squared_distances(real, first, rows, fake, dist);
    for (int64_t i = 0; i < rows; ++i) {
      const auto r = static_cast<size_t>(first + i);
      const float* row = dist.data() + i * m;
      for (int64_t j = 0; j < m; ++j) {
        const float d2 = row[j];
        if (d2 <= real_pr2[r]) fake_in_real[static_cast<size_t>(j)] = 1;
        if (d2 <= fake_pr2[static_cast<size_t>(j)]) real_in_fake[r] = 1;
        if (d2 <= real_dc2[r]) {
          inside += 1;
          real_covered[r] = 1;
        }
      }
    }
  }
  auto share = [](const std::vector<char>& v) {
    return static_cast<double>(std::count(v.begin(), v.end(), 1)) / static_cast<double>(v.size());
  };
  return {share(fake_in_real), share(real_in_fake), inside / (static_cast<double>(dc_k) * static_cast<double>(m)),
          share(real_covered)};
}

}  // namespace gantry
