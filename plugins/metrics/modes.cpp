// modes: mode coverage of a mixture of Gaussians, as VEEGAN (Srivastava et al. 2017) and PacGAN
// (Lin et al. 2018) report it, on the trial's fixed evaluation sample (2,500 points by default).
//   high_quality  % of samples within `threshold` standard deviations of their nearest mode
//   modes         modes that are the nearest mode of at least one high-quality sample
//   reverse_kl    KL(q ‖ uniform) of the high-quality samples' mode histogram q
#include <gantry/error.hpp>
#include <gantry/metric.hpp>

#include <cmath>
#include <limits>

namespace {

class Modes final : public gantry::Metric {
 public:
  Modes(const gantry::Params& p, const gantry::BuildContext&) : threshold_(p.real("threshold")) {}

  std::vector<double> evaluate(gantry::EvalContext& ctx) override {
    const gantry::ModeSet* set = ctx.data.modes();
    if (set == nullptr)
      throw gantry::PluginError("metric 'modes' needs a data plugin with discrete modes (grid25, ring8)");
    return evaluate_modes(*set, ctx.generated, threshold_);
  }

  static std::vector<double> evaluate_modes(const gantry::ModeSet& set, const gantry::Tensor& x, double threshold) {
    const int64_t k = set.centers.dim(0), d = set.centers.dim(1), n = x.dim(0);
    if (x.sample_size() != d) throw gantry::PluginError("metric 'modes': samples and modes differ in dimension");
    std::vector<int64_t> hits(static_cast<size_t>(k), 0);
    int64_t good = 0;
    const double limit2 = (threshold * set.stddev) * (threshold * set.stddev);
    for (int64_t i = 0; i < n; ++i) {
      double best = std::numeric_limits<double>::infinity();
      int64_t arg = 0;
      for (int64_t m = 0; m < k; ++m) {
        double dist2 = 0;
        for (int64_t j = 0; j < d; ++j) {
          const double diff = static_cast<double>(x[i * d + j]) - set.centers[m * d + j];
          dist2 += diff * diff;
        }
        if (dist2 < best) best = dist2, arg = m;
      }
      if (best <= limit2) ++good, ++hits[static_cast<size_t>(arg)];
    }
    int64_t covered = 0;
    double kl = std::log(static_cast<double>(k));
    if (good > 0) {
      kl = 0;
      for (int64_t h : hits) {
        if (h == 0) continue;
        ++covered;
        const double q = static_cast<double>(h) / static_cast<double>(good);
        kl += q * std::log(q * static_cast<double>(k));
      }
    }
    const double pct = n > 0 ? 100.0 * static_cast<double>(good) / static_cast<double>(n) : 0.0;
    return {pct, static_cast<double>(covered), kl};
  }

 private:
  double threshold_;
};

// Primary key: modes covered, the number VEEGAN and PacGAN tables lead with. reverse_kl only
// looks at the high-quality samples, so a G whose few good samples spread evenly scores a
// perfect 0: it breaks ties between runs that cover as many modes, it cannot rank alone.
std::vector<gantry::MetricKey> metric_keys() {
  using gantry::Direction;
  return {{"high_quality", Direction::higher_is_better, "% of samples within threshold std of a mode"},
          {"modes", Direction::higher_is_better, "modes hit by at least one high-quality sample"},
          {"reverse_kl", Direction::lower_is_better, "KL(mode histogram || uniform), nats; log K when no sample is high-quality"}};
}

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::metric, "modes", "1.0.0",
          "mode coverage on mixtures of Gaussians: % high-quality samples, modes covered, reverse KL (VEEGAN/PacGAN protocol)",
          {gantry::real_param("threshold", 3.0, "a sample is high quality within this many std of its nearest mode", 0.0, {})},
          gantry::factory_of<Modes>(),
          metric_keys(), "modes"};
}

}  // namespace

GANTRY_PLUGIN(describe)
