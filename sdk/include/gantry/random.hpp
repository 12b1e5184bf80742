#pragma once
#include <gantry/api.hpp>

#include <cstdint>
#include <span>
#include <string_view>

namespace gantry {

/// Mixes a seed with a purpose string into an independent seed (stable across platforms).
GANTRY_API uint64_t derive_seed(uint64_t seed, std::string_view purpose);

/// Everything an Rng's future draws depend on, for checkpoints: restoring it continues the stream.
struct RngState {
  uint64_t s[4] = {0, 0, 0, 0};
  double spare_normal = 0.0;  ///< Box-Muller's second value, waiting for the next normal()
  bool has_spare = false;
};

/// A seeded generator (xoshiro256**): the same seed gives the same numbers on every machine.
class GANTRY_API Rng {
 public:
  explicit Rng(uint64_t seed);
  RngState state() const;
  void set_state(const RngState& state);
  uint64_t next_u64();
  /// Uniform in [0, 1).
  double uniform();
  /// Standard normal (Box-Muller).
  double normal();
  /// Uniform integer in [0, n).
  uint64_t below(uint64_t n);
  void fill_normal(std::span<float> out, float mean = 0.0f, float stddev = 1.0f);
  void fill_uniform(std::span<float> out, float lo, float hi);

 private:
  uint64_t s_[4];
  double spare_normal_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace gantry
