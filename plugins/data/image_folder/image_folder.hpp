#pragma once
// The image_folder data plugin's work, apart from the plugin boundary so that tests can reach the
// pixels, labels and skip count directly: decode PNG/JPEG files (libpng, libjpeg-turbo), fit them
// to a square size (centre-crop, then area resize), convert to 1 or 3 channels in [-1, 1].
#include <gantry/tensor.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace gantry::image_folder {

/// 8-bit pixels, row-major, interleaved channels (1 = grey, 3 = RGB).
struct Decoded {
  int64_t width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

/// Decodes a PNG or JPEG file (recognised by its first bytes, not its name): grey and grey+alpha
/// come back grey, everything else RGB (alpha dropped, palettes expanded, 16 bits cut to 8).
/// nullopt, with the reason in `why`, when the file cannot be read or decoded.
std::optional<Decoded> decode(const std::filesystem::path& file, std::string& why);

/// How an image of another aspect ratio becomes a square.
enum class Fit { crop, stretch };

struct Options {
  std::filesystem::path root;
  int64_t size = 64;      ///< output images are size × size
  int64_t channels = 3;   ///< 1 (grey: ITU-R BT.601 luma) or 3 (grey images repeated)
  Fit fit = Fit::crop;    ///< crop: the centred largest square, then resize; stretch: resize all
  bool labels = false;    ///< class = the first sub-folder under root
};

/// Every PNG/JPEG under a folder (recursively, in sorted path order), loaded once into memory.
class Folder {
 public:
  /// Throws ConfigError when the folder does not exist or holds no readable image.
  explicit Folder(const Options& options);
  /// [N, channels, size, size] in [-1, 1]: v / 127.5 − 1 of the 8-bit value after fitting.
  const Tensor& images() const { return images_; }
  /// Class index per image (labels = true), indexing class_names().
  const std::vector<int>& labels() const { return labels_; }
  /// The sub-folder names under root that hold images, sorted.
  const std::vector<std::string>& class_names() const { return class_names_; }
  /// Files with an image name (.png, .jpg, .jpeg) that could not be decoded.
  int64_t skipped() const { return static_cast<int64_t>(skipped_.size()); }
  /// "relative/path: reason" for each skipped file, in path order.
  const std::vector<std::string>& skipped_files() const { return skipped_; }

 private:
  Tensor images_;
  std::vector<int> labels_;
  std::vector<std::string> class_names_;
  std::vector<std::string> skipped_;
};

}  // namespace gantry::image_folder
