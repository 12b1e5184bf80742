#pragma once
#include <gantry/plugin.hpp>
#include <gantry/random.hpp>
#include <gantry/tensor.hpp>

#include <span>
#include <string>
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
  /// Classes of the labels sample_labelled() reports (labels 0 … num_classes − 1); 0 when unlabelled.
  virtual int64_t num_classes() const { return 0; }
  /// Like sample(), drawing the same samples from `rng`, and writes each one's class into `labels`
  /// (N of them). The default throws Error: the data is unlabelled.
  virtual void sample_labelled(Rng& rng, Tensor& out, std::span<int32_t> labels);
  /// Facts about the data as loaded, stored with the run as "<data plugin>.<key>" (e.g. how many
  /// files image_folder skipped).
  virtual std::vector<std::pair<std::string, std::string>> notes() const { return {}; }
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
