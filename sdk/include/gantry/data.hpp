#pragma once
#include <gantry/plugin.hpp>
#include <gantry/random.hpp>
#include <gantry/tensor.hpp>

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gantry {

/// Known mixture components of a synthetic distribution, for mode-coverage metrics.
struct ModeSet {
  Tensor centers;      ///< [K, D]
  double stddev = 0;   ///< per-coordinate standard deviation of each component
};

/// A source of real samples.
class GANTRY_API DataSource : public Plugin {
 public:
  /// One sample's shape, e.g. {2}.
  virtual std::vector<int64_t> sample_shape() const = 0;
  /// Fills `out` ([N, sample_shape...], already sized) with N fresh samples.
  virtual void sample(Rng& rng, Tensor& out) = 0;
  /// The mixture components, when the distribution has discrete modes; nullptr otherwise.
  virtual const ModeSet* modes() const { return nullptr; }
  /// What sample() depends on besides the Rng it is given (e.g. the position in a shuffled
  /// epoch), as bytes a checkpoint keeps so that a resumed trial draws the same batches; empty
  /// for a source that keeps nothing between calls.
  virtual std::string state() const { return {}; }
  /// Restores what state() returned, from a source built with the same parameters. The default
  /// accepts only an empty state; a source that keeps state overrides both.
  virtual void set_state(std::string_view state);
  /// Classes of the labels sample_labelled() reports (labels 0 … num_classes − 1); 0 when unlabelled.
  virtual int64_t num_classes() const { return 0; }
  /// Like sample(), drawing the same samples from `rng`, and writes each one's class into `labels`
  /// (N of them). The default throws Error: the data is unlabelled.
  virtual void sample_labelled(Rng& rng, Tensor& out, std::span<int32_t> labels);
  /// Facts about the data as loaded, stored with the run as "<data plugin>.<key>" (e.g. how many
  /// files image_folder skipped).
  virtual std::vector<std::pair<std::string, std::string>> notes() const { return {}; }
};


/// The order in which a finite set is drawn: a random permutation of its items walked in order,
/// reshuffled from the Rng given at the start of each epoch. state()/set_state() are what a
/// checkpoint keeps of it (the permutation and the position in it).
class GANTRY_API EpochOrder {
 public:
  explicit EpochOrder(std::vector<int64_t> items);
  /// The next item; the first call, and the one after an epoch's last item, reshuffle.
  int64_t next(Rng& rng);
  std::string state() const;
  /// Restores state(); throws Error naming `source` unless it is a position in a permutation of
  /// exactly this order's items.
  void set_state(std::string_view state, std::string_view source);

 private:
  std::vector<int64_t> items_;
  size_t next_;
};

/// A DataSource over samples held in memory (fashion_mnist, image_folder): batches walk a fresh
/// permutation of the chosen rows each epoch, labels (when the data has them) go with their samples,
/// and the epoch's position is the source's checkpoint state. A plugin loads its samples and calls
/// hold() in its constructor.
class GANTRY_API StoredSamplesSource : public DataSource {
 public:
  /// `name` prefixes error messages (the plugin's name).
  explicit StoredSamplesSource(std::string name) : name_(std::move(name)) {}

  std::vector<int64_t> sample_shape() const override;
  void sample(Rng& rng, Tensor& out) override { draw(rng, out, {}); }
  int64_t num_classes() const override { return num_classes_; }
  void sample_labelled(Rng& rng, Tensor& out, std::span<int32_t> labels) override;
  std::string state() const override { return order_.state(); }
  void set_state(std::string_view state) override { order_.set_state(state, name_); }

 protected:
  /// `samples` [M, ...] must outlive the source; `rows` (indices into it) are the ones drawn.
  /// `labels` (M of them, 0 … num_classes − 1) with num_classes > 0, or empty with num_classes = 0
  /// and `unlabelled_reason` saying why sample_labelled() refuses.
  void hold(const Tensor& samples, std::vector<int64_t> rows, std::vector<int32_t> labels, int64_t num_classes,
            std::string unlabelled_reason = "the data has no labels");

 private:
  void draw(Rng& rng, Tensor& out, std::span<int32_t> labels);

  std::string name_;
  const Tensor* samples_ = nullptr;
  EpochOrder order_{std::vector<int64_t>{}};
  std::vector<int32_t> labels_;
  int64_t num_classes_ = 0;
  std::string unlabelled_reason_;
};

}  // namespace gantry

namespace gantry {

/// Fills `out` [N, D] with draws from the equal-weight mixture of isotropic Gaussians `modes`;
/// with `labels` (N), also writes each draw's component index there (the draws are the same).
GANTRY_API void sample_mixture(const ModeSet& modes, Rng& rng, Tensor& out, std::span<int32_t> labels = {});

/// A DataSource for an equal-weight mixture of isotropic Gaussians (ring8, grid25): a plugin only
/// says where the modes are.
class GANTRY_API MixtureSource : public DataSource {
 public:
  explicit MixtureSource(ModeSet modes) : modes_(std::move(modes)) {}
  std::vector<int64_t> sample_shape() const override { return {modes_.centers.dim(1)}; }
  void sample(Rng& rng, Tensor& out) override { sample_mixture(modes_, rng, out); }
  const ModeSet* modes() const override { return &modes_; }
  /// Each sample's label is its mixture component.
  int64_t num_classes() const override { return modes_.centers.dim(0); }
  void sample_labelled(Rng& rng, Tensor& out, std::span<int32_t> labels) override {
    sample_mixture(modes_, rng, out, labels);
  }

 private:
  ModeSet modes_;
};

}  // namespace gantry
