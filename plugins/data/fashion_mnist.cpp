// fashion_mnist: the 28×28 grey images of Fashion-MNIST (Debian's dataset-fashion-mnist), pixels
// in [-1, 1] to match a Tanh generator. Batches walk through a fresh random permutation each epoch.
#include <gantry/data.hpp>
#include <gantry/error.hpp>
#include <gantry/fashion_mnist.hpp>

#include <fmt/format.h>
#include <algorithm>

namespace {

class FashionMnist final : public gantry::DataSource {
 public:
  FashionMnist(const gantry::Params& p, const gantry::BuildContext&) {
    const std::string& path = p.string("path");
    const gantry::LabelledImages& set =
        gantry::load_fashion_mnist(path.empty() ? gantry::default_fashion_mnist_dir() : std::filesystem::path(path), p.string("split"));
    images_ = &set.images;
    labels_ = &set.labels;
    const auto& classes = p.integers("classes");
    // Labels are the ten class indices; a subset would leave some of them without images, which a
    // conditional G would still be asked for, so only the whole set counts as labelled.
    num_classes_ = classes.empty() ? 10 : 0;
    for (size_t i = 0; i < set.labels.size(); ++i)
      if (classes.empty() || std::find(classes.begin(), classes.end(), set.labels[i]) != classes.end())
        order_.push_back(static_cast<int64_t>(i));
    if (order_.empty()) throw gantry::ConfigError("fashion_mnist: no image has one of the chosen classes");
    next_ = order_.size();  // the first sample() shuffles
  }

  std::vector<int64_t> sample_shape() const override { return {1, 28, 28}; }

  int64_t num_classes() const override { return num_classes_; }

  void sample(gantry::Rng& rng, gantry::Tensor& out) override { draw(rng, out, {}); }

  void sample_labelled(gantry::Rng& rng, gantry::Tensor& out, std::span<int32_t> labels) override {
    if (num_classes_ == 0)
      throw gantry::Error("fashion_mnist: labels need all ten classes (the parameter 'classes' chose a subset)");
    draw(rng, out, labels);
  }

 private:
  void draw(gantry::Rng& rng, gantry::Tensor& out, std::span<int32_t> labels) {
    constexpr int64_t pixels = 28 * 28;
    if (out.sample_size() != pixels)
      throw gantry::Error(fmt::format("fashion_mnist: asked for samples of shape {}", gantry::shape_string(out.shape())));
    for (int64_t i = 0; i < out.dim(0); ++i) {
      if (next_ == order_.size()) {
        for (size_t k = order_.size(); k > 1; --k) std::swap(order_[k - 1], order_[rng.below(k)]);
        next_ = 0;
      }
      const int64_t row = order_[next_++];
      if (!labels.empty()) labels[static_cast<size_t>(i)] = (*labels_)[static_cast<size_t>(row)];
      const float* src = images_->data() + row * pixels;
      std::copy(src, src + pixels, out.data() + i * pixels);
    }
  }

  const gantry::Tensor* images_ = nullptr;
  const std::vector<uint8_t>* labels_ = nullptr;
  int64_t num_classes_ = 0;
  std::vector<int64_t> order_;
  size_t next_ = 0;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::data,
          "fashion_mnist",
          "1.1.0",
          "Fashion-MNIST images [1, 28, 28] in [-1, 1], shuffled each epoch",
          {gantry::string_param("path", "", "folder with the *-ubyte.gz files; empty = /usr/share/datasets/fashion-mnist"),
           gantry::string_param("split", "train", "which images to learn from", {"train", "test"}),
           gantry::integer_list_param("classes", {}, "only these classes (0..9); empty = all ten (class-conditional training needs all ten)", 0, 9)},
          gantry::factory_of<FashionMnist>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
