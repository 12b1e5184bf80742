#pragma once
// Distances between two sets of feature vectors, as image-GAN papers report them:
// Fréchet distance (Heusel et al. 2017), KID (Bińkowski et al. 2018), precision/recall
// (Kynkäänniemi et al. 2019) and density/coverage (Naeem et al. 2020). Features are rows of
// [N, D] tensors; sums and matrix functions run in double.
#include <gantry/api.hpp>
#include <gantry/random.hpp>
#include <gantry/tensor.hpp>

#include <vector>

namespace gantry {

struct FeatureGaussian {
  int64_t dim = 0;
  std::vector<double> mean;  ///< [D]
  std::vector<double> cov;   ///< [D, D], unbiased (divides by N − 1)
};
GANTRY_API FeatureGaussian fit_gaussian(const Tensor& features);

/// ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½, the squared 2-Wasserstein distance
/// between the Gaussians; tr (Σ₁^½ Σ₂ Σ₁^½)^½ = tr (Σ₁Σ₂)^½, computed by symmetric eigensolves.
GANTRY_API double frechet_distance(const FeatureGaussian& a, const FeatureGaussian& b);

/// Eigenvalues (ascending) of the symmetric n×n matrix `a` (row-major) by cyclic Jacobi; the
/// eigenvectors as the columns of `vectors` when given.
GANTRY_API std::vector<double> symmetric_eigen(std::vector<double> a, int64_t n, std::vector<double>* vectors = nullptr);

/// Unbiased MMD² with the kernel k(x, y) = (x·y / D + 1)³, averaged over `subsets` random
/// subsets of `subset_size` rows of each set (fewer when a set is smaller).
GANTRY_API double kernel_inception_distance(const Tensor& x, const Tensor& y, int64_t subsets, int64_t subset_size,
                                            Rng& rng);

/// Squared distance from each row of x to its k-th nearest other row of x.
GANTRY_API std::vector<float> knn_radii2(const Tensor& x, int64_t k);
/// The same for several k at once (one distance pass), in the order of `ks`.
GANTRY_API std::vector<std::vector<float>> knn_radii2(const Tensor& x, const std::vector<int64_t>& ks);

struct Prdc {
  double precision = 0;  ///< share of fake samples inside the real manifold (k-NN balls, k = pr_k)
  double recall = 0;     ///< share of real samples inside the fake manifold
  double density = 0;    ///< mean number of real balls (k = dc_k) holding a fake sample, over dc_k; ≈ 1 for equal distributions
  double coverage = 0;   ///< share of real balls (k = dc_k) holding at least one fake sample
};
/// `real_pr2` and `real_dc2` are knn_radii2(real, pr_k) and knn_radii2(real, dc_k), which a caller
/// comparing many fake sets against one reference computes once.
GANTRY_API Prdc precision_recall_density_coverage(const Tensor& real, const std::vector<float>& real_pr2,
                                                  const std::vector<float>& real_dc2, const Tensor& fake,
                                                  int64_t pr_k, int64_t dc_k);

/// out[i, j] = ‖x_i − y_j‖² for rows first..first+rows of x against all of y (out sized rows × |y|).
GANTRY_API void squared_distances(const Tensor& x, int64_t first, int64_t rows, const Tensor& y, std::vector<float>& out);

}  // namespace gantry
