// image_folder: your own images. Every PNG/JPEG under `path` (recursively) is decoded once, at
// construction, fitted to size × size (centre-crop then area resize, or stretched), converted to 1
// or 3 channels and kept in memory as floats in [-1, 1]. Files that cannot be decoded are skipped
// and counted in the run's notes. Batches walk a fresh random permutation each epoch.
// Labels (labels = true: the first sub-folder's name, classes sorted) go with their images, so
// a class-conditional model ([train] conditional = true) can learn from them.
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

class ImageFolder final : public gantry::StoredSamplesSource {
 public:
  ImageFolder(const gantry::Params& p, const gantry::BuildContext&)
      : StoredSamplesSource("image_folder"), folder_(options_of(p)) {
    std::vector<int64_t> rows(static_cast<size_t>(folder_.images().dim(0)));
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
    if (folder_.class_names().empty())
      hold(folder_.images(), std::move(rows), {}, 0, "labels = false: set labels = true to take classes from sub-folders");
    else
      hold(folder_.images(), std::move(rows), {folder_.labels().begin(), folder_.labels().end()},
           static_cast<int64_t>(folder_.class_names().size()));
  }

  std::vector<std::pair<std::string, std::string>> notes() const override {
    std::vector<std::pair<std::string, std::string>> n{{"images", std::to_string(folder_.images().dim(0))},
                                                       {"skipped", std::to_string(folder_.skipped())}};
    if (folder_.skipped() > 0) n.emplace_back("first_skipped", folder_.skipped_files().front());
    if (!folder_.class_names().empty()) n.emplace_back("classes", fmt::format("{}", fmt::join(folder_.class_names(), ", ")));
    return n;
  }

 private:
  fi::Folder folder_;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::data,
          "image_folder",
          "1.1.0",
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
