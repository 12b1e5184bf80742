// grid25: a 5×5 grid of Gaussians with means at {−4, −2, 0, 2, 4}² (VEEGAN / PacGAN).
#include <gantry/data.hpp>

namespace {

gantry::ModeSet grid(const gantry::Params& p) {
  const int64_t side = p.integer("side");
  const double spacing = p.real("spacing");
  const double offset = spacing * static_cast<double>(side - 1) / 2.0;
  gantry::ModeSet set{gantry::Tensor({side * side, 2}), p.real("std")};
  for (int64_t i = 0; i < side; ++i)
    for (int64_t j = 0; j < side; ++j) {
      const int64_t m = i * side + j;
      set.centers[2 * m] = static_cast<float>(static_cast<double>(i) * spacing - offset);
      set.centers[2 * m + 1] = static_cast<float>(static_cast<double>(j) * spacing - offset);
    }
  return set;
}

class Grid final : public gantry::MixtureSource {
 public:
  Grid(const gantry::Params& p, const gantry::BuildContext&) : MixtureSource(grid(p)) {}
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::data,
          "grid25",
          "1.0.0",
          "Gaussians on a square grid centred at the origin (default 5x5, spacing 2, std 0.05)",
          {gantry::integer_param("side", 5, "modes per side of the grid", 1, 100),
           gantry::real_param("spacing", 2.0, "distance between neighbouring means", 0.0, {}),
           gantry::real_param("std", 0.05, "standard deviation of each Gaussian", 0.0, {})},
          gantry::factory_of<Grid>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
