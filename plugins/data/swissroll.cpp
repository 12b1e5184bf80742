// swissroll: the 2D Swiss roll of the WGAN-GP toy experiments (scikit-learn's make_swiss_roll,
// coordinates x and z, divided by 7.5 so the roll fits in about [-2, 2]²).
#include <gantry/data.hpp>

#include <cmath>
#include <numbers>

namespace {

class SwissRoll final : public gantry::DataSource {
 public:
  SwissRoll(const gantry::Params& p, const gantry::BuildContext&)
      : noise_(p.real("noise")), scale_(p.real("scale")) {}
  std::vector<int64_t> sample_shape() const override { return {2}; }
  void sample(gantry::Rng& rng, gantry::Tensor& out) override {
    for (int64_t i = 0; i < out.dim(0); ++i) {
      const double t = 1.5 * std::numbers::pi * (1.0 + 2.0 * rng.uniform());
      out[2 * i] = static_cast<float>((t * std::cos(t) + noise_ * rng.normal()) * scale_);
      out[2 * i + 1] = static_cast<float>((t * std::sin(t) + noise_ * rng.normal()) * scale_);
    }
  }

 private:
  double noise_, scale_;
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::data,
          "swissroll",
          "1.0.0",
          "2D Swiss roll (no discrete modes: use a distance metric, not 'modes')",
          {gantry::real_param("noise", 0.25, "standard deviation of the Gaussian noise, before scaling", 0.0, {}),
           gantry::real_param("scale", 1.0 / 7.5, "factor applied to the coordinates", 0.0, {})},
          gantry::factory_of<SwissRoll>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
