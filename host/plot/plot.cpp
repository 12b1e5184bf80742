#include "plot/plot.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <cairo.h>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <memory>

namespace gantry {

namespace {

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using Context = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

std::string to_png(cairo_surface_t* surface) {
  std::string out;
  auto write = [](void* closure, const unsigned char* data, unsigned int length) -> cairo_status_t {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
  };
  if (cairo_surface_write_to_png_stream(surface, write, &out) != CAIRO_STATUS_SUCCESS)
    throw Error("cannot encode a PNG");
  return out;
}

// A palette that stays distinguishable for the first eight groups (Okabe & Ito).
void colour(cairo_t* cr, size_t i, double alpha = 1.0) {
  static const double rgb[][3] = {{0.0, 0.45, 0.70}, {0.90, 0.62, 0.0}, {0.0, 0.62, 0.45}, {0.80, 0.40, 0.0},
                                  {0.34, 0.71, 0.91}, {0.80, 0.47, 0.65}, {0.94, 0.89, 0.26}, {0.2, 0.2, 0.2}};
  const auto& c = rgb[i % 8];
  cairo_set_source_rgba(cr, c[0], c[1], c[2], alpha);
}

}  // namespace

std::string tick_text(double v) {
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e5 || a < 1e-2) return fmt::format("{:.1e}", v);
  if (v == std::round(v)) return fmt::format("{:.0f}", v);
  return fmt::format("{:.3g}", v);
}

std::pair<double, double> band_at(const Curve& c, size_t i) {
  const double s = c.spread.empty() ? 0 : c.spread[i];
  double lo = c.mean[i] - s, hi = c.mean[i] + s;
  if (!c.min.empty()) lo = std::max(lo, c.min[i]);
  if (!c.max.empty()) hi = std::min(hi, c.max[i]);
  return {lo, hi};
}

std::vector<double> nice_ticks(double lo, double hi, int count) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || count < 1) return {};
  if (hi <= lo) return {lo};
  const double raw = (hi - lo) / count, exponent = std::floor(std::log10(raw));
  const double magnitude = std::pow(10.0, exponent);
  double factor = 10;
  for (const double f : {1.0, 2.0, 5.0})
    if (f * magnitude >= raw) {
      factor = f;
      break;
    }
  const double step = factor * magnitude;
  // Tick k is k·factor·10^e; for e < 0 it is computed as the integer k·factor divided by 10^−e, the
  // correctly rounded double of the decimal (0.6, not 3·0.2 = 0.6000000000000001).
  auto tick = [&](double k) { return exponent < 0 ? k * factor / std::pow(10.0, -exponent) : k * step; };
  std::vector<double> ticks;
  const double first = std::floor(lo / step), last = std::ceil(hi / step);
  for (double k = first; k <= last + 0.5; ++k) ticks.push_back(k == 0 ? 0.0 : tick(k));
  return ticks;
}

std::string scatter_png(const Tensor& samples, const ModeSet* modes, int size) {
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, size, size), cairo_surface_destroy);
  Context cr(cairo_create(surface.get()), cairo_destroy);
  cairo_set_source_rgb(cr.get(), 1, 1, 1);
  cairo_paint(cr.get());

  // The view: the modes' extent (or the samples'), padded, square.
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  auto extend = [&](double v) { lo = std::min(lo, v), hi = std::max(hi, v); };
  if (modes != nullptr) {
    for (float v : modes->centers.values()) extend(v);
  } else {
    for (float v : samples.values())
      if (std::isfinite(v)) extend(v);
  }
  if (!std::isfinite(lo)) lo = -1, hi = 1;
  const double pad = 0.25 * std::max(hi - lo, 1e-3);
  lo -= pad, hi += pad;
  const double scale = size / (hi - lo);
  auto px = [&](double x) { return (x - lo) * scale; };
  auto py = [&](double y) { return size - (y - lo) * scale; };

  cairo_set_source_rgba(cr.get(), 0.0, 0.45, 0.70, 0.35);
  const int64_t n = samples.dim(0);
  for (int64_t i = 0; i < n; ++i) {
    const double x = samples[2 * i], y = samples[2 * i + 1];
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    cairo_arc(cr.get(), px(x), py(y), 1.6, 0, 2 * M_PI);
    cairo_fill(cr.get());
  }
  if (modes != nullptr) {
    cairo_set_source_rgb(cr.get(), 0.85, 0.1, 0.1);
    cairo_set_line_width(cr.get(), 1.5);
    const double r = std::max(3 * modes->stddev * scale, 3.0);
    for (int64_t m = 0; m < modes->centers.dim(0); ++m) {
      cairo_new_sub_path(cr.get());
      cairo_arc(cr.get(), px(modes->centers[2 * m]), py(modes->centers[2 * m + 1]), r, 0, 2 * M_PI);
    }
    cairo_stroke(cr.get());
  }
  return to_png(surface.get());
}

std::string curves_png(const std::vector<Curve>& curves, const std::string& title, const std::string& y_label,
                       int width, int height) {
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height), cairo_surface_destroy);
  Context cr(cairo_create(surface.get()), cairo_destroy);
  cairo_t* c = cr.get();
  cairo_set_source_rgb(c, 1, 1, 1);
  cairo_paint(c);
  cairo_select_font_face(c, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const Curve& k : curves)
    for (size_t i = 0; i < k.steps.size(); ++i) {
      if (!std::isfinite(k.mean[i])) continue;
      const auto [lo, hi] = band_at(k, i);
      x0 = std::min(x0, k.steps[i]), x1 = std::max(x1, k.steps[i]);
      y0 = std::min(y0, lo), y1 = std::max(y1, hi);
    }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y0 -= 0.5, y1 += 0.5;
  const double left = 70, right = 230, top = 56, bottom = 50;
  const double pw = width - left - right, ph = height - top - bottom;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return top + ph - (y - y0) / (y1 - y0) * ph; };

  // Axes, ticks and labels.
  cairo_set_source_rgb(c, 0.2, 0.2, 0.2);
  cairo_set_line_width(c, 1);
  cairo_rectangle(c, left, top, pw, ph);
  cairo_stroke(c);
  cairo_set_font_size(c, 12);
  for (int i = 0; i <= 4; ++i) {
    const double fx = x0 + (x1 - x0) * i / 4, fy = y0 + (y1 - y0) * i / 4;
    cairo_move_to(c, px(fx) - 12, top + ph + 18);
    cairo_show_text(c, tick_text(fx).c_str());
    cairo_move_to(c, 8, py(fy) + 4);
    cairo_show_text(c, tick_text(fy).c_str());
    cairo_set_source_rgb(c, 0.9, 0.9, 0.9);
    cairo_move_to(c, left, py(fy));
    cairo_line_to(c, left + pw, py(fy));
    cairo_stroke(c);
    cairo_set_source_rgb(c, 0.2, 0.2, 0.2);
  }
  cairo_move_to(c, left + pw / 2 - 15, height - 12);
  cairo_show_text(c, "step");
  cairo_move_to(c, 8, top - 12);
  cairo_show_text(c, y_label.c_str());
  cairo_set_font_size(c, 14);
  cairo_move_to(c, left, 20);
  cairo_show_text(c, title.c_str());

  for (size_t k = 0; k < curves.size(); ++k) {
    const Curve& cv = curves[k];
    if (cv.steps.empty()) continue;
    if (!cv.spread.empty()) {  // the ± spread band
      colour(c, k, 0.18);
      cairo_move_to(c, px(cv.steps[0]), py(band_at(cv, 0).second));
      for (size_t i = 1; i < cv.steps.size(); ++i) cairo_line_to(c, px(cv.steps[i]), py(band_at(cv, i).second));
      for (size_t i = cv.steps.size(); i-- > 0;) cairo_line_to(c, px(cv.steps[i]), py(band_at(cv, i).first));
      cairo_close_path(c);
      cairo_fill(c);
    }
    colour(c, k);
    cairo_set_line_width(c, 2);
    cairo_move_to(c, px(cv.steps[0]), py(cv.mean[0]));
    for (size_t i = 1; i < cv.steps.size(); ++i) cairo_line_to(c, px(cv.steps[i]), py(cv.mean[i]));
    cairo_stroke(c);
    // Legend.
    const double ly = top + 14 + 20.0 * static_cast<double>(k);
    cairo_rectangle(c, left + pw + 12, ly - 9, 14, 10);
    cairo_fill(c);
    cairo_set_source_rgb(c, 0.1, 0.1, 0.1);
    cairo_set_font_size(c, 12);
    cairo_move_to(c, left + pw + 32, ly);
    cairo_show_text(c, cv.label.c_str());
  }
  return to_png(surface.get());
}

}  // namespace gantry

namespace gantry {

namespace {

// The first n images, `side` to a row, `gutter` grey pixels around each.
std::string grid_png(const Tensor& samples, int64_t n, int side, int zoom, int gutter = 2) {
  const int64_t c = samples.dim(1), h = samples.dim(2), w = samples.dim(3);
  const int cols = side, rows = static_cast<int>((n + side - 1) / side);
  const int width = cols * static_cast<int>(w) * zoom + (cols + 1) * gutter;
  const int height = std::max(rows, 1) * static_cast<int>(h) * zoom + (std::max(rows, 1) + 1) * gutter;
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height), cairo_surface_destroy);
  cairo_surface_flush(surface.get());
  unsigned char* pixels = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  std::fill(pixels, pixels + static_cast<size_t>(stride) * height, 0x80);
  auto byte = [](float v) {  // [-1, 1] → 0..255; NaN shows as black
    if (!std::isfinite(v)) return 0u;
    return static_cast<unsigned>(std::lround(std::clamp((v + 1.0f) * 127.5f, 0.0f, 255.0f)));
  };
  for (int64_t k = 0; k < n; ++k) {
    const int x0 = gutter + static_cast<int>(k % side) * (static_cast<int>(w) * zoom + gutter);
    const int y0 = gutter + static_cast<int>(k / side) * (static_cast<int>(h) * zoom + gutter);
    const float* img = samples.data() + k * c * h * w;
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        unsigned rgb[3];
        for (int64_t ch = 0; ch < 3; ++ch) rgb[ch] = byte(img[(c == 3 ? ch : 0) * h * w + i * w + j]);
        const uint32_t px = rgb[0] << 16 | rgb[1] << 8 | rgb[2];
        for (int a = 0; a < zoom; ++a)
          for (int b = 0; b < zoom; ++b) {
            auto* row = reinterpret_cast<uint32_t*>(pixels + static_cast<size_t>(y0 + i * zoom + a) * stride);
            row[x0 + j * zoom + b] = px;
          }
      }
  }
  cairo_surface_mark_dirty(surface.get());
  return to_png(surface.get());
}

void check_images(const Tensor& samples) {
  if (samples.rank() != 4 || (samples.dim(1) != 1 && samples.dim(1) != 3))
    throw Error(fmt::format("a sample grid needs images [N, 1 or 3, H, W], got {}", shape_string(samples.shape())));
}

}  // namespace

std::string image_grid_png(const Tensor& samples, int side, int zoom) {
  check_images(samples);
  return grid_png(samples, std::min<int64_t>(samples.dim(0), int64_t{side} * side), side, zoom);
}

std::string class_grid_png(const Tensor& samples, std::span<const int32_t> labels, int classes, int side, int zoom) {
  check_images(samples);
  GANTRY_ASSERT(static_cast<int64_t>(labels.size()) == samples.dim(0) && classes > 0 && side > 0);
  const int64_t per = samples.sample_size();
  std::vector<int64_t> shape = samples.shape();
  shape[0] = int64_t{classes} * side;
  Tensor grid(shape);  // zeros: a class with fewer than `side` samples leaves mid-grey cells
  std::vector<int> filled(static_cast<size_t>(classes), 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    const int label = labels[i];
    if (label < 0 || label >= classes || filled[static_cast<size_t>(label)] == side) continue;
    const int64_t cell = int64_t{label} * side + filled[static_cast<size_t>(label)]++;
    std::copy_n(samples.data() + static_cast<int64_t>(i) * per, per, grid.data() + cell * per);
  }
  return grid_png(grid, grid.dim(0), side, zoom);
}

std::string image_png(const Tensor& samples, int64_t index) {
  check_images(samples);
  GANTRY_ASSERT(index >= 0 && index < samples.dim(0));
  std::vector<int64_t> shape = samples.shape();
  shape[0] = 1;
  Tensor one(shape);
  std::copy_n(samples.data() + index * samples.sample_size(), samples.sample_size(), one.data());
  return grid_png(one, 1, 1, 1, 0);
}

}  // namespace gantry
