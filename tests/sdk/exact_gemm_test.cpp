// exact_gemm: the same bits as the plain scalar sum, at every shape, thread count and clone.
#include "exact_gemm.hpp"

#include <gantry/random.hpp>

#include <cmath>
#include <cstring>
#include <omp.h>
#include <vector>
#include <gtest/gtest.h>

namespace gantry::detail {
namespace {

std::vector<float> random_values(int64_t n, Rng& rng) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(rng.normal());
  return v;
}

// The definition: start from C (or 0), add each rounded product in ascending k.
std::vector<float> scalar_gemm(const GemmShape& s, const std::vector<float>& a, const std::vector<float>& b,
                               std::vector<float> c, bool accumulate) {
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      volatile float acc = accumulate ? c[static_cast<size_t>(i * s.ldc + j)] : 0.0f;
      for (int64_t kk = 0; kk < s.k; ++kk) {
        volatile float product = a[static_cast<size_t>(i * s.lda + kk)] * b[static_cast<size_t>(kk * s.ldb + j)];
        acc = acc + product;
      }
      c[static_cast<size_t>(i * s.ldc + j)] = acc;
    }
  return c;
}

bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

TEST(ExactGemm, EqualsTheScalarSumBitForBitAtEveryTileEdge) {
  Rng rng(7);
  for (int64_t m : {1, 3, 4, 5, 9})
    for (int64_t n : {1, 15, 16, 17, 32, 33, 70})
      for (int64_t k : {1, 2, 300})
        for (bool accumulate : {false, true}) {
          const GemmShape s{m, n, k, k + 1, n + 2, n + 3};  // strides wider than the rows
          const auto a = random_values(m * s.lda, rng), b = random_values(k * s.ldb, rng);
          const auto c0 = random_values(m * s.ldc, rng);
          std::vector<float> c = c0;
          exact_gemm(s, a.data(), b.data(), c.data(), accumulate);
          EXPECT_TRUE(same_bits(c, scalar_gemm(s, a, b, c0, accumulate)))
              << "m " << m << " n " << n << " k " << k << " accumulate " << accumulate;
        }
}

TEST(ExactGemm, IsCloseToTheSumInDouble) {
  Rng rng(8);
  const GemmShape s{6, 40, 500, 500, 40, 40};
  const auto a = random_values(6 * 500, rng), b = random_values(500 * 40, rng);
  std::vector<float> c(6 * 40);
  exact_gemm(s, a.data(), b.data(), c.data(), false);
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 0; j < 40; ++j) {
      double sum = 0, scale = 0;
      for (int64_t kk = 0; kk < 500; ++kk) {
        const double p = double(a[static_cast<size_t>(i * 500 + kk)]) * b[static_cast<size_t>(kk * 40 + j)];
        sum += p;
        scale += std::abs(p);
      }
      EXPECT_NEAR(c[static_cast<size_t>(i * 40 + j)], sum, 1e-5 * scale);
    }
}

TEST(ExactGemm, GivesTheSameBitsOnOneTwoAndThreeThreads) {
  Rng rng(9);
  const GemmShape s{203, 131, 517, 517, 131, 131};
  const auto a = random_values(s.m * s.k, rng), b = random_values(s.k * s.n, rng);
  std::vector<std::vector<float>> results;
  const int before = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    std::vector<float> c(static_cast<size_t>(s.m * s.n));
    exact_gemm(s, a.data(), b.data(), c.data(), false);
    results.push_back(std::move(c));
  }
  omp_set_num_threads(before);
  EXPECT_TRUE(same_bits(results[0], results[1]));
  EXPECT_TRUE(same_bits(results[0], results[2]));
}

TEST(ExactGemm, TransposeSwapsRowsAndColumns) {
  const std::vector<float> in{1, 2, 3, 4, 5, 6};  // [2, 3]
  std::vector<float> out(6);
  transpose(in.data(), 2, 3, out.data());
  EXPECT_EQ(out, (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

}  // namespace
}  // namespace gantry::detail
