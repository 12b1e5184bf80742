// modes: mode coverage of a mixture of Gaussians, as VEEGAN (Srivastava et al. 2017) and PacGAN
// (Lin et al. 2018) report it, on the trial's fixed evaluation sample (2,500 points by default).
//   high_quality  % of samples within `threshold` standard deviations of their nearest mode
//   modes         modes that are the nearest mode of at least one high-quality sample
//   reverse_kl    KL(q ‖ uniform) of the high-quality samples' mode histogram q
//   class_hit     class-conditional G (labels = mixture components): % of the samples generated for
//                 mode c that are high quality at mode c, averaged over the modes; NaN for an
//                 unconditional G, whose trials do not record it
#include <gantry/error.hpp>
#include <gantry/metric.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace {

class Modes final : public gantry::Metric {
 public:
  Modes(const gantry::Params& p, const gantry::BuildContext&) : threshold_(p.real("threshold")) {}

  std::vector<double> evaluate(gantry::EvalContext& ctx) override {
    const gantry::ModeSet* set = ctx.data.modes();
    if (set == nullptr)
      throw gantry::PluginError("metric 'modes' needs a data plugin with discrete modes (grid25, ring8)");
    return evaluate_modes(*set, ctx.generated, threshold_, ctx.generated_labels);
  }

  /// `labels`: the mode each sample was generated for (a conditional G), or empty.
  static std::vector<double> evaluate_modes(const gantry::ModeSet& set, const gantry::Tensor& x, double threshold,
                                            std::span<const int32_t> labels = {}) {
    const int64_t k = set.centers.dim(0), d = set.centers.dim(1), n = x.dim(0);
    if (x.sample_size() != d) throw gantry::PluginError("metric 'modes': samples and modes differ in dimension");
    if (!labels.empty() && (static_cast<int64_t>(labels.size()) != n ||
                            std::any_of(labels.begin(), labels.end(), [k](int32_t l) { return l < 0 || l >= k; })))
      throw gantry::PluginError(fmt::format("metric 'modes': labels must be one mode index (0..{}) per sample", k - 1));
    std::vector<int64_t> hits(static_cast<size_t>(k), 0), asked(static_cast<size_t>(k), 0), on_target = asked;
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
      if (!labels.empty()) {
        const auto asked_for = static_cast<size_t>(labels[static_cast<size_t>(i)]);
        ++asked[asked_for];
        on_target[asked_for] += best <= limit2 && static_cast<size_t>(arg) == asked_for;
      }
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
    return {pct, static_cast<double>(covered), kl, class_hit(asked, on_target)};
  }

  static double class_hit(const std::vector<int64_t>& asked, const std::vector<int64_t>& on_target) {
    if (std::all_of(asked.begin(), asked.end(), [](int64_t a) { return a == 0; }))
      return std::numeric_limits<double>::quiet_NaN();
    double sum = 0, modes = 0;
    for (size_t c = 0; c < asked.size(); ++c)
      if (asked[c] > 0) sum += 100.0 * static_cast<double>(on_target[c]) / static_cast<double>(asked[c]), modes += 1;
    return sum / modes;
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
          {"reverse_kl", Direction::lower_is_better, "KL(mode histogram || uniform), nats; log K when no sample is high-quality"},
          {"class_hit", Direction::higher_is_better,
           "conditional G: % of the samples generated for mode c that are high quality at mode c, mean over modes",
           true}};
}

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::metric, "modes", "1.1.0",
          "mode coverage on mixtures of Gaussians: % high-quality samples, modes covered, reverse KL (VEEGAN/PacGAN protocol)",
          {gantry::real_param("threshold", 3.0, "a sample is high quality within this many std of its nearest mode", 0.0, {})},
          gantry::factory_of<Modes>(),
          metric_keys(), "modes"};
}

}  // namespace

GANTRY_PLUGIN(describe)
