// image_folder: your own images. Every PNG/JPEG under `path` (recursively) is decoded once, at
// construction, fitted to size × size (centre-crop then area resize, or stretched), converted to 1
// or 3 channels and kept in memory as floats in [-1, 1]. Files that cannot be decoded are skipped
// and counted in the run's notes. Batches walk a fresh random permutation each epoch.
// Labels (labels = true: the first sub-folder's name, classes sorted) are kept per image for
// conditional models; DataSource does not carry them yet.
#include "image_folder.hpp"

#include <gantry/data.hpp>
#include <gantry/error.hpp>

#include <fmt/format.h>

namespace {

namespace fi = gantry::image_folder;

fi::Options options_of(const gantry::Params& p) {
  if (p.string("path").empty()) throw gantry::ConfigError("image_folder: path is empty; name the folder of images");
  if (p.integer("channels") == 2) throw gantry::ConfigError("image_folder: channels must be 1 or 3, got 2");
  return {p.string("path"), p.integer("size"), p.integer("channels"),
          p.string("fit") == "crop" ? fi::Fit::crop : fi::Fit::stretch, p.boolean("labels")};
}

class ImageFolder final : public gantry::DataSource {
 public:
  ImageFolder(const gantry::Params& p, const gantry::BuildContext&) : folder_(options_of(p)) {
    order_.resize(static_cast<size_t>(folder_.images().dim(0)));
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<int64_t>(i);
    next_ = order_.size();  // the first sample() shuffles
  }

  std::vector<int64_t> sample_shape() const override {
    const auto& s = folder_.images().shape();
    return {s[1], s[2], s[3]};
  }

  void sample(gantry::Rng& rng, gantry::Tensor& out) override {
    const int64_t pixels = folder_.images().sample_size();
    if (out.sample_size() != pixels)
      throw gantry::Error(fmt::format("image_folder: asked for samples of shape {}", gantry::shape_string(out.shape())));
    for (int64_t i = 0; i < out.dim(0); ++i) {
      if (next_ == order_.size()) {
        for (size_t k = order_.size(); k > 1; --k) std::swap(order_[k - 1], order_[rng.below(k)]);
        next_ = 0;
      }
      const float* src = folder_.images().data() + order_[next_++] * pixels;
      std::copy(src, src + pixels, out.data() + i * pixels);
    }
  }

  /// Class index per image (labels = true), in the order of images(); for conditional models.
  const std::vector<int>& labels() const { return folder_.labels(); }
  /// The class sub-folders' names, sorted; labels() index them.
  const std::vector<std::string>& class_names() const { return folder_.class_names(); }

  std::vector<std::pair<std::string, std::string>> notes() const override {
    std::vector<std::pair<std::string, std::string>> n{{"images", std::to_string(folder_.images().dim(0))},
                                                       {"skipped", std::to_string(folder_.skipped())}};
    if (folder_.skipped() > 0) n.emplace_back("first_skipped", folder_.skipped_files().front());
    if (!folder_.class_names().empty()) n.emplace_back("classes", fmt::format("{}", fmt::join(folder_.class_names(), ", ")));
    return n;
  }

 private:
  fi::Folder folder_;
  std::vector<int64_t> order_;
  size_t next_ = 0;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::data,
          "image_folder",
          "1.0.0",
          "your own PNG/JPEG images from a folder (recursively) as [C, size, size] in [-1, 1]",
          {gantry::string_param("path", "", "the folder of images (searched recursively)"),
           gantry::integer_param("size", 64, "output images are size × size", 4, 1024),
           gantry::integer_param("channels", 3, "1 (grey, BT.601 luma) or 3 (RGB; grey images repeated)", 1, 3),
           gantry::string_param("fit", "crop", "crop: the centred largest square, then area resize; stretch: resize the whole image",
                                {"crop", "stretch"}),
           gantry::boolean_param("labels", false, "class of each image = its first sub-folder's name (classes sorted)")},
          gantry::factory_of<ImageFolder>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
