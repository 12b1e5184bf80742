#pragma once
// Resizing images by area: what image_folder fits files with, and what pixel_quality pools
// images with before it compares them.
#include <gantry/api.hpp>

#include <cstdint>
#include <vector>

namespace gantry {

/// Area resize of `src` (height rows of width pixels of `channels` interleaved values, doubles) to
/// out_w × out_h: each output pixel is the mean of the source area it covers, fractional pixels
/// weighted by their overlap; up-scaling repeats pixels.
GANTRY_API std::vector<double> area_resize(const std::vector<double>& src, int64_t width, int64_t height,
                                           int64_t channels, int64_t out_w, int64_t out_h);

}  // namespace gantry
