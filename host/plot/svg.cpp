#include "plot/svg.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace gantry {

namespace {

// The palette of curves_png (Okabe & Ito), so a PNG and a page show a group in one colour.
const char* colour(size_t i) {
  static const char* rgb[] = {"#0072b2", "#e69f00", "#009e73", "#cc6600", "#56b4e8", "#cc78a6", "#f0e442", "#333333"};
  return rgb[i % 8];
}

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) { lo = std::min(lo, v), hi = std::max(hi, v); }
  bool empty() const { return !(lo <= hi); }
};

// The axis over the data's range, widened to the round ticks around it.
std::vector<double> axis(Range r) {
  if (r.empty()) r = {0, 1};
  if (r.hi == r.lo) r = {r.lo - 0.5, r.hi + 0.5};
  return nice_ticks(r.lo, r.hi);
}

}  // namespace

std::string curves_svg(const std::vector<Curve>& curves, const std::string& title, const std::string& y_label,
                       int width, int height) {
  Range xr, yr;
  for (const Curve& c : curves)
    for (size_t i = 0; i < c.steps.size(); ++i) {
      if (!std::isfinite(c.mean[i])) continue;
      const auto [lo, hi] = band_at(c, i);
      xr.add(c.steps[i]), yr.add(lo), yr.add(hi);
    }
  const std::vector<double> xt = axis(xr), yt = axis(yr);
  const double left = 70, right = 230, top = 40, bottom = 44;
  const double pw = width - left - right, ph = height - top - bottom;
  const double x0 = xt.front(), x1 = xt.back(), y0 = yt.front(), y1 = yt.back();
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return top + ph - (y - y0) / (y1 - y0) * ph; };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"curves\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"#fff\"/>\n<text x=\"{2}\" y=\"20\" font-size=\"14\">{3}</text>\n",
      width, height, left, html_escape(title));
  for (const double t : xt)
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e6e6e6\"/>"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>\n",
        px(t), top, top + ph, top + ph + 16, tick_text(t));
  for (const double t : yt)
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e6e6e6\"/>"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        left, py(t), left + pw, left - 6, py(t) + 4, tick_text(t));
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n"
      "<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">step</text>"
      "<text x=\"8\" y=\"{}\">{}</text>\n",
      left, top, pw, ph, left + pw / 2, height - 8, top - 8, html_escape(y_label));
  for (size_t k = 0; k < curves.size(); ++k) {
    const Curve& c = curves[k];
    std::string upper, lower, line;
    for (size_t i = 0; i < c.steps.size(); ++i) {
      if (!std::isfinite(c.mean[i])) continue;
      const auto [lo, hi] = band_at(c, i);
      upper += fmt::format("{:.1f},{:.1f} ", px(c.steps[i]), py(hi));
      lower.insert(0, fmt::format("{:.1f},{:.1f} ", px(c.steps[i]), py(lo)));
      line += fmt::format("{:.1f},{:.1f} ", px(c.steps[i]), py(c.mean[i]));
    }
    if (!c.spread.empty() && !upper.empty())
      svg += fmt::format("<polygon points=\"{}{}\" fill=\"{}\" fill-opacity=\"0.18\"/>\n", upper, lower, colour(k));
    if (!line.empty())
      svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", line, colour(k));
    const double ly = top + 14 + 20.0 * static_cast<double>(k);
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"14\" height=\"10\" fill=\"{}\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
        left + pw + 12, ly - 9, colour(k), left + pw + 32, ly, html_escape(c.label));
  }
  return svg + "</svg>\n";
}

}  // namespace gantry
