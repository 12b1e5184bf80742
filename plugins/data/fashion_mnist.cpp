// fashion_mnist: the 28×28 grey images of Fashion-MNIST (Debian's dataset-fashion-mnist), pixels
// in [-1, 1] to match a Tanh generator. Batches walk through a fresh random permutation each epoch.
#include <gantry/data.hpp>
#include <gantry/error.hpp>
#include <gantry/fashion_mnist.hpp>

#include <fmt/format.h>
#include <algorithm>

namespace {

class FashionMnist final : public gantry::StoredSamplesSource {
 public:
  FashionMnist(const gantry::Params& p, const gantry::BuildContext&) : StoredSamplesSource("fashion_mnist") {
    const std::string& path = p.string("path");
    const gantry::LabelledImages& set =
        gantry::load_fashion_mnist(path.empty() ? gantry::default_fashion_mnist_dir() : std::filesystem::path(path), p.string("split"));
    const auto& classes = p.integers("classes");
    std::vector<int64_t> rows;
    for (size_t i = 0; i < set.labels.size(); ++i)
      if (classes.empty() || std::find(classes.begin(), classes.end(), set.labels[i]) != classes.end())
        rows.push_back(static_cast<int64_t>(i));
    if (rows.empty()) throw gantry::ConfigError("fashion_mnist: no image has one of the chosen classes");
    // Labels are the ten class indices; a subset would leave some of them without images, which a
    // conditional G would still be asked for, so only the whole set counts as labelled.
    if (classes.empty())
      hold(set.images, std::move(rows), {set.labels.begin(), set.labels.end()}, 10);
    else
      hold(set.images, std::move(rows), {}, 0, "labels need all ten classes (the parameter 'classes' chose a subset)");
  }
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::data,
          "fashion_mnist",
          "1.2.0",
          "Fashion-MNIST images [1, 28, 28] in [-1, 1], shuffled each epoch",
          {gantry::string_param("path", "", "folder with the *-ubyte.gz files; empty = /usr/share/datasets/fashion-mnist"),
           gantry::string_param("split", "train", "which images to learn from", {"train", "test"}),
           gantry::integer_list_param("classes", {}, "only these classes (0..9); empty = all ten (class-conditional training needs all ten)", 0, 9)},
          gantry::factory_of<FashionMnist>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
