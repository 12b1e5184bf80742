#include "image_folder.hpp"

#include <gantry/area_resize.hpp>
#include <gantry/error.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>

namespace gantry::image_folder {

namespace fs = std::filesystem;

namespace {

bool has_image_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// Sorted, so the images' order (and so every sample drawn) does not depend on the file system's.
std::vector<fs::path> image_files(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    throw ConfigError(fmt::format("image_folder: {} is not a folder", root.string()));
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec) && has_image_name(it->path())) files.push_back(it->path());
  if (ec) throw ConfigError(fmt::format("image_folder: cannot list {}: {}", root.string(), ec.message()));
  std::sort(files.begin(), files.end());
  return files;
}

// The centred largest square (crop) or the whole image (stretch), resized to size × size, as
// `channels` channels of 8-bit values in doubles, channel-interleaved.
std::vector<double> fitted(const Decoded& d, const Options& o) {
  int64_t x0 = 0, y0 = 0, w = d.width, h = d.height;
  if (o.fit == Fit::crop) {
    w = h = std::min(d.width, d.height);
    x0 = (d.width - w) / 2, y0 = (d.height - h) / 2;
  }
  std::vector<double> px(static_cast<size_t>(w * h * o.channels));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      const uint8_t* p = &d.pixels[static_cast<size_t>(((y0 + y) * d.width + x0 + x) * d.channels)];
      double* q = &px[static_cast<size_t>((y * w + x) * o.channels)];
      if (o.channels == d.channels) {
        for (int64_t c = 0; c < o.channels; ++c) q[c] = p[c];
      } else if (o.channels == 3) {  // grey repeated
        q[0] = q[1] = q[2] = p[0];
      } else {  // ITU-R BT.601 luma, as PIL's convert("L") before its rounding
        q[0] = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
      }
    }
  return area_resize(px, w, h, o.channels, o.size, o.size);
}

}  // namespace

Folder::Folder(const Options& o) {
  GANTRY_ASSERT(o.size > 0 && (o.channels == 1 || o.channels == 3));
  const std::vector<fs::path> files = image_files(o.root);
  std::vector<std::vector<double>> kept;
  std::vector<std::string> classes;
  for (const fs::path& file : files) {
    const fs::path rel = file.lexically_relative(o.root);
    if (o.labels && std::distance(rel.begin(), rel.end()) < 2)
      throw ConfigError(fmt::format("image_folder: labels = true takes each image's class from its sub-folder, but "
                                    "{} is directly in {}", rel.string(), o.root.string()));
    std::string why;
    const std::optional<Decoded> d = decode(file, why);
    if (!d) {
      skipped_.push_back(fmt::format("{}: {}", rel.string(), why));
      continue;
    }
    kept.push_back(fitted(*d, o));
    if (o.labels) classes.push_back(rel.begin()->string());
  }
  if (files.empty())
    throw ConfigError(fmt::format("image_folder: no .png, .jpg or .jpeg file under {} (searched recursively)",
                                  o.root.string()));
  if (kept.empty())
    throw ConfigError(fmt::format("image_folder: none of the {} image file(s) under {} could be read (first: {})",
                                  files.size(), o.root.string(), skipped_.front()));
  const int64_t n = static_cast<int64_t>(kept.size()), s = o.size, c = o.channels;
  images_ = Tensor({n, c, s, s});
  for (int64_t i = 0; i < n; ++i)  // interleaved [S, S, C] → planar [C, S, S], 8-bit scale → [-1, 1]
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < s * s; ++p)
        images_[((i * c + ch) * s * s) + p] = static_cast<float>(kept[static_cast<size_t>(i)][static_cast<size_t>(p * c + ch)] / 127.5 - 1.0);
  if (!o.labels) return;
  class_names_ = classes;
  std::sort(class_names_.begin(), class_names_.end());
  class_names_.erase(std::unique(class_names_.begin(), class_names_.end()), class_names_.end());
  for (const std::string& name : classes)
    labels_.push_back(static_cast<int>(std::lower_bound(class_names_.begin(), class_names_.end(), name) - class_names_.begin()));
}

}  // namespace gantry::image_folder
