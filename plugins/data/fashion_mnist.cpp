// fashion_mnist: the 28×28 grey images of Fashion-MNIST (Debian's dataset-fashion-mnist), pixels
// in [-1, 1] to match a Tanh generator. Batches walk through a fresh random permutation each epoch.
#include <gantry/data.hpp>
#include <gantry/error.hpp>
#include <gantry/fashion_mnist.hpp>

#include <fmt/format.h>
#include <algorithm>
#include <cstring>

namespace {

class FashionMnist final : public gantry::DataSource {
 public:
  FashionMnist(const gantry::Params& p, const gantry::BuildContext&) {
    const std::string& path = p.string("path");
    const gantry::LabelledImages& set =
        gantry::load_fashion_mnist(path.empty() ? gantry::default_fashion_mnist_dir() : std::filesystem::path(path), p.string("split"));
    images_ = &set.images;
    const auto& classes = p.integers("classes");
    for (size_t i = 0; i < set.labels.size(); ++i)
      if (classes.empty() || std::find(classes.begin(), classes.end(), set.labels[i]) != classes.end())
        order_.push_back(static_cast<int64_t>(i));
    if (order_.empty()) throw gantry::ConfigError("fashion_mnist: no image has one of the chosen classes");
    next_ = order_.size();  // the first sample() shuffles
  }

  std::vector<int64_t> sample_shape() const override { return {1, 28, 28}; }

  void sample(gantry::Rng& rng, gantry::Tensor& out) override {
    constexpr int64_t pixels = 28 * 28;
    if (out.sample_size() != pixels)
      throw gantry::Error(fmt::format("fashion_mnist: asked for samples of shape {}", gantry::shape_string(out.shape())));
    for (int64_t i = 0; i < out.dim(0); ++i) {
      if (next_ == order_.size()) {
        for (size_t k = order_.size(); k > 1; --k) std::swap(order_[k - 1], order_[rng.below(k)]);
        next_ = 0;
      }
      const float* src = images_->data() + order_[next_++] * pixels;
      std::copy(src, src + pixels, out.data() + i * pixels);
    }
  }

  // The epoch's order and the position in it: the rows the next batches take.
  std::string state() const override {
    std::string out(sizeof(uint64_t) * (1 + order_.size()), '\0');
    const uint64_t next = next_;
    std::memcpy(out.data(), &next, sizeof next);
    std::memcpy(out.data() + sizeof next, order_.data(), order_.size() * sizeof(int64_t));
    return out;
  }

  void set_state(std::string_view state) override {
    if (state.size() != sizeof(uint64_t) * (1 + order_.size()))
      throw gantry::Error(fmt::format("fashion_mnist: a saved state of {} bytes does not fit {} images", state.size(),
                                      order_.size()));
    uint64_t next = 0;
    std::memcpy(&next, state.data(), sizeof next);
    if (next > order_.size()) throw gantry::Error("fashion_mnist: the saved position is past the end of the epoch");
    std::vector<int64_t> order(order_.size());
    std::memcpy(order.data(), state.data() + sizeof next, order.size() * sizeof(int64_t));
    const int64_t images = images_->dim(0);
    if (std::any_of(order.begin(), order.end(), [&](int64_t i) { return i < 0 || i >= images; }))
      throw gantry::Error("fashion_mnist: the saved epoch order names images that do not exist");
    order_ = std::move(order);
    next_ = next;
  }

 private:
  const gantry::Tensor* images_ = nullptr;
  std::vector<int64_t> order_;
  size_t next_ = 0;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::data,
          "fashion_mnist",
          "1.0.0",
          "Fashion-MNIST images [1, 28, 28] in [-1, 1], shuffled each epoch",
          {gantry::string_param("path", "", "folder with the *-ubyte.gz files; empty = /usr/share/datasets/fashion-mnist"),
           gantry::string_param("split", "train", "which images to learn from", {"train", "test"}),
           gantry::integer_list_param("classes", {}, "only these classes (0..9); empty = all ten", 0, 9)},
          gantry::factory_of<FashionMnist>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
