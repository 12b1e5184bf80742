#pragma once
// Reproducible single-precision matrix products, for what must come out bit-identical on every
// machine (the reference classifier's weights). oneDNN's kernels split reductions differently
// with the thread count and the instruction set, so they cannot give that guarantee.
#include <gantry/api.hpp>

#include <cstdint>

namespace gantry::detail {

/// Row-major operands: A is [m, k] with row stride lda, B is [k, n] with row stride ldb, C is
/// [m, n] with row stride ldc.
struct GemmShape {
  int64_t m, n, k, lda, ldb, ldc;
};

/// C = A·B, or C += A·B when `accumulate`. Every element of C starts from 0 (or its old value)
/// and adds its k products in ascending order, each product rounded before it is added. Threads
/// split C's tiles and vector lanes split its columns; neither changes a bit of the result, which
/// is therefore the same for any thread count, any vector width and any x86-64 CPU.
GANTRY_API void exact_gemm(const GemmShape& s, const float* a, const float* b, float* c, bool accumulate);

/// `out` [cols, rows] = transpose of `in` [rows, cols] (both dense).
GANTRY_API void transpose(const float* in, int64_t rows, int64_t cols, float* out);

}  // namespace gantry::detail
