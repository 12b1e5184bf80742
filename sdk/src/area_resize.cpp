#include <gantry/area_resize.hpp>
#include <gantry/error.hpp>

#include <algorithm>
#include <cmath>

namespace gantry {

namespace {

// One axis of the area resize: out[o] = mean of src over [o·scale, (o+1)·scale), each source
// sample weighted by its overlap with that interval.
std::vector<double> resize_axis(const std::vector<double>& src, int64_t outer, int64_t n, int64_t inner, int64_t out_n) {
  std::vector<double> out(static_cast<size_t>(outer * out_n * inner), 0.0);
  const double scale = static_cast<double>(n) / static_cast<double>(out_n);
  for (int64_t o = 0; o < out_n; ++o) {
    const double lo = static_cast<double>(o) * scale, hi = lo + scale;
    for (int64_t s = static_cast<int64_t>(std::floor(lo)); s < n && static_cast<double>(s) < hi; ++s) {
      const double w = (std::min(hi, static_cast<double>(s + 1)) - std::max(lo, static_cast<double>(s))) / scale;
      if (w <= 0) continue;
      for (int64_t a = 0; a < outer; ++a)
        for (int64_t i = 0; i < inner; ++i)
          out[static_cast<size_t>((a * out_n + o) * inner + i)] += w * src[static_cast<size_t>((a * n + s) * inner + i)];
    }
  }
  return out;
}

}  // namespace

std::vector<double> area_resize(const std::vector<double>& src, int64_t width, int64_t height, int64_t channels,
                                int64_t out_w, int64_t out_h) {
  GANTRY_ASSERT(static_cast<int64_t>(src.size()) == width * height * channels && out_w > 0 && out_h > 0);
  if (width == out_w && height == out_h) return src;
  const std::vector<double> rows = resize_axis(src, height, width, channels, out_w);  // along x
  return resize_axis(rows, 1, height, out_w * channels, out_h);                       // along y
}

}  // namespace gantry
