// ring8: K Gaussians evenly spaced on a circle — the 2D benchmark of VEEGAN and PacGAN.
#include <gantry/data.hpp>

#include <cmath>
#include <numbers>

namespace {

gantry::ModeSet ring(const gantry::Params& p) {
  const int64_t k = p.integer("modes");
  const double radius = p.real("radius");
  gantry::ModeSet set{gantry::Tensor({k, 2}), p.real("std")};
  for (int64_t i = 0; i < k; ++i) {
    // Angles 2πi/K for i < K: spacing with linspace(0, 2π, K) would put the last mode on the first.
    const double angle = 2.0 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(k);
    set.centers[2 * i] = static_cast<float>(radius * std::cos(angle));
    set.centers[2 * i + 1] = static_cast<float>(radius * std::sin(angle));
  }
  return set;
}

class Ring final : public gantry::MixtureSource {
 public:
  Ring(const gantry::Params& p, const gantry::BuildContext&) : MixtureSource(ring(p)) {}
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::data,
          "ring8",
          "1.0.0",
          "Gaussians evenly spaced on a circle (PacGAN protocol: 8 modes, radius 1, std 0.01)",
          {gantry::integer_param("modes", 8, "number of Gaussians on the circle", 1, 1024),
           gantry::real_param("radius", 1.0, "radius of the circle", 0.0, {}),
           gantry::real_param("std", 0.01, "standard deviation of each Gaussian", 0.0, {})},
          gantry::factory_of<Ring>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
