// grid25: a 5×5 grid of Gaussians with means at {−4, −2, 0, 2, 4}² (VEEGAN / PacGAN).
#include <gantry/data.hpp>

namespace {

class Grid final : public gantry::DataSource {
 public:
  Grid(const gantry::Params& p, const gantry::BuildContext&) {
    const int64_t side = p.integer("side");
    const double spacing = p.real("spacing");
    const double offset = spacing * static_cast<double>(side - 1) / 2.0;
    modes_.centers = gantry::Tensor({side * side, 2});
    modes_.stddev = p.real("std");
    for (int64_t i = 0; i < side; ++i)
      for (int64_t j = 0; j < side; ++j) {
        const int64_t m = i * side + j;
        modes_.centers[2 * m] = static_cast<float>(static_cast<double>(i) * spacing - offset);
        modes_.centers[2 * m + 1] = static_cast<float>(static_cast<double>(j) * spacing - offset);
      }
  }
  std::vector<int64_t> sample_shape() const override { return {2}; }
  void sample(gantry::Rng& rng, gantry::Tensor& out) override { gantry::sample_mixture(modes_, rng, out); }
  const gantry::ModeSet* modes() const override { return &modes_; }

 private:
  gantry::ModeSet modes_;
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
