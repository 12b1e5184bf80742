#include "exact_gemm.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace gantry::detail {
namespace {

// Each kernel works in its own register width (AVX-512: 16 lanes, AVX2: 8, baseline SSE2: 4), and
// each lane does the same rounded multiply and add as a scalar loop would (the SDK is built with
// -ffp-contract=off, so no fused multiply-add): that is why the kernels agree to the bit.
constexpr int64_t rows_per_tile = 4, k_block = 256;

// Spelled out per width: GCC drops vector_size on a typedef that depends on a template parameter.
typedef float Lanes4 __attribute__((vector_size(16)));
typedef float Lanes8 __attribute__((vector_size(32)));
typedef float Lanes16 __attribute__((vector_size(64)));
template <int W>
struct Lanes;
template <>
struct Lanes<4> {
  using type = Lanes4;
};
template <>
struct Lanes<8> {
  using type = Lanes8;
};
template <>
struct Lanes<16> {
  using type = Lanes16;
};

template <class V>
[[gnu::always_inline]] inline void load(V& v, const float* p) {
  std::memcpy(&v, p, sizeof v);
}
template <class V>
[[gnu::always_inline]] inline void store(float* p, const V& v) {
  std::memcpy(p, &v, sizeof v);
}

// C[R rows, 2W columns] (+)= A[R, k] · panel[k, 2W]. The panel is a packed, zero-padded block of
// B; columns past the matrix's edge are computed and dropped, so every kept column gets exactly
// the operations an interior one would.
template <int W, int R>
[[gnu::always_inline]] inline void tile(int64_t k, const float* a, int64_t lda, const float* panel, float* c,
                                        int64_t ldc, int64_t width, bool accumulate) {
  using V = typename Lanes<W>::type;
  static_assert(sizeof(V) == W * sizeof(float));
  float edge[R][2 * W] = {};
  const bool full = width == 2 * W;
  if (accumulate)
    for (int r = 0; r < R; ++r) std::copy_n(c + r * ldc, width, edge[r]);
  V acc[R][2];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < 2; ++v) {
      acc[r][v] = V{};
      if (accumulate) load(acc[r][v], full ? c + r * ldc + v * W : edge[r] + v * W);
    }
  for (int64_t kk = 0; kk < k; ++kk) {
    V b0, b1;
    load(b0, panel + kk * 2 * W);
    load(b1, panel + kk * 2 * W + W);
    for (int r = 0; r < R; ++r) {
      const float av = a[r * lda + kk];
      acc[r][0] += av * b0;
      acc[r][1] += av * b1;
    }
  }
  for (int r = 0; r < R; ++r) {
    if (full) {
      store(c + r * ldc, acc[r][0]);
      store(c + r * ldc + W, acc[r][1]);
    } else {
      store(edge[r], acc[r][0]);
      store(edge[r] + W, acc[r][1]);
      std::copy_n(edge[r], width, c + r * ldc);
    }
  }
}

// One row tile of C, every column, for one block of k (`packed`: the block's panels in order).
template <int W>
[[gnu::always_inline]] inline void row_of_tiles(const GemmShape& s, int64_t k, int64_t row, const float* a,
                                                const float* packed, float* c, bool accumulate) {
  const int64_t rows = std::min(rows_per_tile, s.m - row);
  a += row * s.lda;
  c += row * s.ldc;
  for (int64_t col = 0; col < s.n; col += 2 * W, packed += k * 2 * W) {
    const int64_t width = std::min<int64_t>(2 * W, s.n - col);
    switch (rows) {
      case 4: tile<W, 4>(k, a, s.lda, packed, c + col, s.ldc, width, accumulate); break;
      case 3: tile<W, 3>(k, a, s.lda, packed, c + col, s.ldc, width, accumulate); break;
      case 2: tile<W, 2>(k, a, s.lda, packed, c + col, s.ldc, width, accumulate); break;
      default: tile<W, 1>(k, a, s.lda, packed, c + col, s.ldc, width, accumulate);
    }
  }
}

using RowKernel = void (*)(const GemmShape&, int64_t, int64_t, const float*, const float*, float*, bool);

__attribute__((target("avx512f"))) void row_avx512(const GemmShape& s, int64_t k, int64_t row, const float* a,
                                                   const float* packed, float* c, bool accumulate) {
  row_of_tiles<16>(s, k, row, a, packed, c, accumulate);
}
__attribute__((target("avx2"))) void row_avx2(const GemmShape& s, int64_t k, int64_t row, const float* a,
                                              const float* packed, float* c, bool accumulate) {
  row_of_tiles<8>(s, k, row, a, packed, c, accumulate);
}
void row_sse2(const GemmShape& s, int64_t k, int64_t row, const float* a, const float* packed, float* c,
              bool accumulate) {
  row_of_tiles<4>(s, k, row, a, packed, c, accumulate);
}

struct Kernel {
  RowKernel row;
  int64_t panel;  // columns per tile: twice the vector width
};

Kernel pick_kernel() {
  if (__builtin_cpu_supports("avx512f")) return {row_avx512, 32};
  if (__builtin_cpu_supports("avx2")) return {row_avx2, 16};
  return {row_sse2, 8};
}

// Rows [k0, k0 + k) of B as panels of `panel` columns, each [k, panel] and contiguous, so the
// kernels read B sequentially whatever its row stride; zeros past the last column.
void pack(const GemmShape& s, const float* b, int64_t k0, int64_t k, int64_t panel, float* packed) {
  const int64_t panels = (s.n + panel - 1) / panel;
#pragma omp parallel for schedule(static) if (k * s.n >= 65536)
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t col = p * panel, width = std::min(panel, s.n - col);
    float* out = packed + p * k * panel;
    for (int64_t kk = 0; kk < k; ++kk, out += panel) {
      std::copy_n(b + (k0 + kk) * s.ldb + col, width, out);
      std::fill(out + width, out + panel, 0.0f);
    }
  }
}

}  // namespace

void exact_gemm(const GemmShape& s, const float* a, const float* b, float* c, bool accumulate) {
  static const Kernel kernel = pick_kernel();
  thread_local std::vector<float> packed;  // grows to the largest block once, then is reused
  const int64_t panels = (s.n + kernel.panel - 1) / kernel.panel;
  packed.resize(std::max<size_t>(packed.size(), static_cast<size_t>(std::min(k_block, s.k) * panels * kernel.panel)));
  const int64_t row_tiles = (s.m + rows_per_tile - 1) / rows_per_tile;
  if (s.k == 0 && !accumulate)
    for (int64_t i = 0; i < s.m; ++i) std::fill_n(c + i * s.ldc, s.n, 0.0f);
  // Blocks of k in ascending order, each continuing from the sums the last one stored: every
  // element adds its products in ascending k. Each row tile belongs to one thread, whole.
  for (int64_t k0 = 0; k0 < s.k; k0 += k_block) {
    const int64_t k = std::min(k_block, s.k - k0);
    pack(s, b, k0, k, kernel.panel, packed.data());
    const float* panel = packed.data();
#pragma omp parallel for schedule(static) if (s.m * s.n * k >= 32768)
    for (int64_t i = 0; i < row_tiles; ++i)
      kernel.row(s, k, i * rows_per_tile, a + k0, panel, c, accumulate || k0 > 0);
  }
}

void transpose(const float* in, int64_t rows, int64_t cols, float* out) {
  constexpr int64_t block = 32;
#pragma omp parallel for schedule(static) if (rows * cols >= 65536)
  for (int64_t r0 = 0; r0 < rows; r0 += block)
    for (int64_t c0 = 0; c0 < cols; c0 += block)
      for (int64_t r = r0; r < std::min(rows, r0 + block); ++r)
        for (int64_t c = c0; c < std::min(cols, c0 + block); ++c) out[c * rows + r] = in[r * cols + c];
}

}  // namespace gantry::detail
