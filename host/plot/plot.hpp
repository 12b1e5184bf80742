#pragma once
// Pictures drawn with cairo and written as PNG bytes.
#include <gantry/data.hpp>
#include <gantry/tensor.hpp>

#include <span>
#include <string>
#include <vector>

namespace gantry {

/// A scatter of 2D samples (blue) over the real distribution's modes (red rings, radius 3 std).
std::string scatter_png(const Tensor& samples, const ModeSet* modes, int size = 480);

/// The first side×side images of `samples` ([N, C, H, W], C 1 or 3, values in [-1, 1]) as a grid,
/// each pixel drawn as a `zoom`×`zoom` block with a 2-pixel grey gutter between images.
std::string image_grid_png(const Tensor& samples, int side = 8, int zoom = 3);
/// Image `index` of `samples` ([N, C, H, W] as for image_grid_png) alone, one pixel per value.
std::string image_png(const Tensor& samples, int64_t index);
/// A class-conditional G's samples as a grid with one class per row: row c holds the first `side`
/// images whose label is c (mid-grey cells where a class has fewer), `classes` rows.
std::string class_grid_png(const Tensor& samples, std::span<const int32_t> labels, int classes, int side = 8,
                           int zoom = 3);

struct Curve {
  std::string label;
  /// `spread`: the band's half-width at each step (the seeds' std, or the standard error of their
  /// mean); may be empty (no band).
  std::vector<double> steps, mean, spread;
  /// The smallest and largest value at each step (may be empty): the band is clipped to them, since
  /// mean ± spread can leave the range any run reached (an accuracy above 1, a count below 0).
  std::vector<double> min, max;
};
/// The band of curve `c` at point i: mean ± spread clipped to [min, max] where given.
std::pair<double, double> band_at(const Curve& c, size_t i);
/// About `count` round tick values (1, 2 or 5 × 10^k apart) covering [lo, hi]; the first is ≤ lo
/// and the last ≥ hi, so an axis drawn over them starts and ends on a tick.
std::vector<double> nice_ticks(double lo, double hi, int count = 5);
/// A tick's label: integers plainly, small and large numbers in exponent form.
std::string tick_text(double v);
/// Curves over steps, one colour per curve, with a ±std band where given, a legend and axes.
std::string curves_png(const std::vector<Curve>& curves, const std::string& title, const std::string& y_label,
                       int width = 800, int height = 480);

}  // namespace gantry
