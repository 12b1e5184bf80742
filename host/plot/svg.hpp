#pragma once
// Curves as SVG text, for pages a browser draws itself (sharp at any zoom, no image decoding).
#include "plot/plot.hpp"

#include <string>
#include <vector>

namespace gantry {

/// The curves of curves_png as an <svg> element: one colour per curve, its ± spread band (std or standard error) clipped to
/// the values' range (band_at), round ticks (nice_ticks) on both axes, a legend naming each curve.
/// Every label is escaped, so names from the database render as text.
std::string curves_svg(const std::vector<Curve>& curves, const std::string& title, const std::string& y_label,
                       int width = 800, int height = 420);

}  // namespace gantry
