#pragma once
#include <gantry/plugin.hpp>
#include <gantry/random.hpp>
#include <gantry/tensor.hpp>

#include <string>
#include <string_view>
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
};

}  // namespace gantry

namespace gantry {

/// Fills `out` [N, D] with draws from the equal-weight mixture of isotropic Gaussians `modes`.
GANTRY_API void sample_mixture(const ModeSet& modes, Rng& rng, Tensor& out);

/// A DataSource for an equal-weight mixture of isotropic Gaussians (ring8, grid25): a plugin only
/// says where the modes are.
class GANTRY_API MixtureSource : public DataSource {
 public:
  explicit MixtureSource(ModeSet modes) : modes_(std::move(modes)) {}
  std::vector<int64_t> sample_shape() const override { return {modes_.centers.dim(1)}; }
  void sample(Rng& rng, Tensor& out) override { sample_mixture(modes_, rng, out); }
  const ModeSet* modes() const override { return &modes_; }

 private:
  ModeSet modes_;
};

}  // namespace gantry
