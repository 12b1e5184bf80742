#include <gantry/error.hpp>
#include <gantry/feature_stats.hpp>

#include <cmath>
#include <gtest/gtest.h>

namespace gantry {
namespace {

// n samples of N(mean, L·Lᵀ) in d dimensions (L lower triangular, row-major).
Tensor gaussian_samples(int64_t n, const std::vector<double>& mean, const std::vector<double>& l, uint64_t seed) {
  const auto d = static_cast<int64_t>(mean.size());
  Tensor x({n, d});
  Rng rng(seed);
  std::vector<double> z(static_cast<size_t>(d));
  for (int64_t i = 0; i < n; ++i) {
    for (double& v : z) v = rng.normal();
    for (int64_t a = 0; a < d; ++a) {
      double v = mean[static_cast<size_t>(a)];
      for (int64_t b = 0; b <= a; ++b) v += l[static_cast<size_t>(a * d + b)] * z[static_cast<size_t>(b)];
      x[i * d + a] = static_cast<float>(v);
    }
  }
  return x;
}

TEST(SymmetricEigen, RecoversAKnownSpectrum) {
  // Q diag(1, 2, 5) Qᵀ with a rotation Q about the z axis.
  const double c = std::cos(0.3), s = std::sin(0.3);
  const double l[3] = {1, 2, 5};
  const double q[9] = {c, -s, 0, s, c, 0, 0, 0, 1};
  std::vector<double> a(9, 0.0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) a[static_cast<size_t>(i * 3 + j)] += q[i * 3 + k] * l[k] * q[j * 3 + k];
  std::vector<double> vecs;
  const auto values = symmetric_eigen(a, 3, &vecs);
  EXPECT_NEAR(values[0], 1, 1e-12);
  EXPECT_NEAR(values[1], 2, 1e-12);
  EXPECT_NEAR(values[2], 5, 1e-12);
  // A v = λ v for each column.
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 3; ++i) {
      double av = 0;
      for (int j = 0; j < 3; ++j) av += a[static_cast<size_t>(i * 3 + j)] * vecs[static_cast<size_t>(j * 3 + k)];
      EXPECT_NEAR(av, values[static_cast<size_t>(k)] * vecs[static_cast<size_t>(i * 3 + k)], 1e-12);
    }
}

TEST(FrechetDistance, DiagonalGaussiansHaveTheClosedForm) {
  // Commuting covariances: FD = ‖μ₁ − μ₂‖² + Σ (σ₁ᵢ − σ₂ᵢ)².
  FeatureGaussian a{3, {0, 1, 2}, {4, 0, 0, 0, 1, 0, 0, 0, 9}};
  FeatureGaussian b{3, {1, 1, 0}, {1, 0, 0, 0, 1, 0, 0, 0, 16}};
  EXPECT_NEAR(frechet_distance(a, b), (1 + 0 + 4) + (1 + 0 + 1), 1e-10);
  EXPECT_NEAR(frechet_distance(a, a), 0.0, 1e-10);
}

TEST(FrechetDistance, NonCommutingCovariancesMatchTheTwoByTwoFormula) {
  // For 2×2 SPD A, B: tr (AB)^½ = sqrt(tr AB + 2 sqrt(det AB)).
  const std::vector<double> a{2.0, 0.7, 0.7, 1.0}, b{0.5, -0.3, -0.3, 3.0};
  const double ab00 = a[0] * b[0] + a[1] * b[2], ab11 = a[2] * b[1] + a[3] * b[3];
  const double det = (a[0] * a[3] - a[1] * a[2]) * (b[0] * b[3] - b[1] * b[2]);
  const double root = std::sqrt(ab00 + ab11 + 2 * std::sqrt(det));
  const double expected = 0.25 + 4.0 + (a[0] + a[3] + b[0] + b[3]) - 2 * root;
  FeatureGaussian ga{2, {0.5, 0}, a}, gb{2, {0, 2}, b};
  EXPECT_NEAR(frechet_distance(ga, gb), expected, 1e-10);
  EXPECT_NEAR(frechet_distance(gb, ga), expected, 1e-10);  // symmetric although Σ₁Σ₂ ≠ Σ₂Σ₁
}

TEST(FrechetDistance, EstimatedFromSamplesApproachesTheTruth) {
  const std::vector<double> l1{1, 0, 0, 0.5, 1, 0, 0.2, -0.3, 0.8}, l2{2, 0, 0, 0, 0.5, 0, 0.4, 0, 1};
  const Tensor x = gaussian_samples(40000, {0, 0, 0}, l1, 1), y = gaussian_samples(40000, {1, 0, -1}, l2, 2);
  const FeatureGaussian gx = fit_gaussian(x);
  EXPECT_NEAR(gx.cov[3], 0.5, 0.03);  // Σ₁₀ = L₁₀·L₀₀
  auto cov_of = [](const std::vector<double>& l) {
    std::vector<double> c(9, 0.0);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        for (int k = 0; k < 3; ++k) c[static_cast<size_t>(i * 3 + j)] += l[static_cast<size_t>(i * 3 + k)] * l[static_cast<size_t>(j * 3 + k)];
    return c;
  };
  const double truth = frechet_distance({3, {0, 0, 0}, cov_of(l1)}, {3, {1, 0, -1}, cov_of(l2)});
  EXPECT_NEAR(frechet_distance(gx, fit_gaussian(y)), truth, 0.05 * truth);
  // Two samples of one distribution: close to 0, far below the distance between the two.
  EXPECT_LT(frechet_distance(gx, fit_gaussian(gaussian_samples(40000, {0, 0, 0}, l1, 3))), 0.01 * truth);
}

TEST(KernelDistance, NearZeroForOneDistributionAndGrowsWithTheShift) {
  const std::vector<double> id{1, 0, 0, 1};
  const Tensor x = gaussian_samples(3000, {0, 0}, id, 4), x2 = gaussian_samples(3000, {0, 0}, id, 5);
  Rng rng(6);
  const double same = kernel_inception_distance(x, x2, 20, 500, rng);
  const double near = kernel_inception_distance(x, gaussian_samples(3000, {0.5, 0}, id, 7), 20, 500, rng);
  const double far = kernel_inception_distance(x, gaussian_samples(3000, {2, 0}, id, 8), 20, 500, rng);
  EXPECT_LT(std::abs(same), 0.02 * near);  // unbiased: scatters around 0
  EXPECT_GT(far, 4 * near);
}

TEST(KernelDistance, MatchesTheExactMmdOfOneSubset) {
  // With one subset holding every row the estimator is the textbook unbiased MMD².
  Tensor x({3, 1}, {0, 1, 2}), y({3, 1}, {1, 3, 5});
  auto k = [](double a, double b) { return std::pow(a * b + 1, 3); };
  double kxx = 0, kyy = 0, kxy = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      if (i != j) kxx += k(x[i], x[j]), kyy += k(y[i], y[j]);
      kxy += k(x[i], y[j]);
    }
  Rng rng(1);
  EXPECT_NEAR(kernel_inception_distance(x, y, 1, 3, rng), kxx / 6 + kyy / 6 - 2 * kxy / 9, 1e-6);
}

TEST(KnnRadii, AreTheKthNeighbourDistanceExcludingThePointItself) {
  Tensor x({4, 1}, {0, 1, 3, 7});
  const auto r1 = knn_radii2(x, 1), r2 = knn_radii2(x, 2);
  EXPECT_EQ(r1, (std::vector<float>{1, 1, 4, 16}));
  EXPECT_EQ(r2, (std::vector<float>{9, 4, 9, 36}));
  const auto both = knn_radii2(x, std::vector<int64_t>{1, 2});
  EXPECT_EQ(both[0], r1);
  EXPECT_EQ(both[1], r2);
  EXPECT_THROW(knn_radii2(x, 4), Error);
}

Prdc prdc_of(const Tensor& real, const Tensor& fake) {
  const auto radii = knn_radii2(real, std::vector<int64_t>{3, 5});
  return precision_recall_density_coverage(real, radii[0], radii[1], fake, 3, 5);
}

TEST(Prdc, SameDistributionScoresHighWithDensityNearOne) {
  const std::vector<double> id{1, 0, 0, 0, 1, 0, 0, 0, 1};
  const Prdc p = prdc_of(gaussian_samples(2000, {0, 0, 0}, id, 1), gaussian_samples(2000, {0, 0, 0}, id, 2));
  EXPECT_GT(p.precision, 0.6);
  EXPECT_GT(p.recall, 0.6);
  EXPECT_NEAR(p.density, 1.0, 0.15);  // Naeem et al.: E[density] = 1 for identical distributions
  EXPECT_GT(p.coverage, 0.9);         // ≈ 1 − 2⁻ᵏ for k = 5
}

TEST(Prdc, DisjointSamplesScoreZero) {
  const std::vector<double> id{1, 0, 0, 1};
  const Prdc p = prdc_of(gaussian_samples(1000, {0, 0}, id, 1), gaussian_samples(1000, {50, 0}, id, 2));
  EXPECT_EQ(p.precision, 0);
  EXPECT_EQ(p.recall, 0);
  EXPECT_EQ(p.density, 0);
  EXPECT_EQ(p.coverage, 0);
}

TEST(Prdc, ACollapsedGeneratorKeepsPrecisionAndLosesRecallAndCoverage) {
  // Real: two far-apart clusters. Fake: only the first (mode collapse).
  const std::vector<double> id{1, 0, 0, 1};
  Tensor real({2000, 2});
  const Tensor a = gaussian_samples(1000, {0, 0}, id, 1), b = gaussian_samples(1000, {30, 0}, id, 2);
  real.copy_rows_from(a, 0);
  real.copy_rows_from(b, 1000);
  const Prdc p = prdc_of(real, gaussian_samples(2000, {0, 0}, id, 3));
  EXPECT_GT(p.precision, 0.6);
  EXPECT_LT(p.recall, 0.5);
  EXPECT_LT(p.coverage, 0.5);
  EXPECT_GT(p.coverage, 0.4);  // the covered cluster is half the real data
}

}  // namespace
}  // namespace gantry
