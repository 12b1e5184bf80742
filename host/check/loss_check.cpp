#include "check/loss_check.hpp"

#include <gantry/random.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <functional>
#include <limits>

namespace gantry {

namespace {

// One derivative against central differences at steps 1e-2 and 1e-3, keeping the better of the
// two (so a kink near one point does not fail a correct loss): its relative error, and by how much
// the analytic value misses the numeric one.
struct Derivative {
  double error = 0;
  double miss = 0;
};

Derivative check_derivative(std::vector<float>& x, size_t i, double analytic, const std::function<double()>& f) {
  Derivative best{std::numeric_limits<double>::infinity(), 0};
  for (float h : {1e-2f, 1e-3f}) {
    const float saved = x[i];
    const float step = h * std::max(1.0f, std::abs(saved));
    x[i] = saved + step;
    const double up = f();
    x[i] = saved - step;
    const double down = f();
    x[i] = saved;
    const double numeric = (up - down) / (2.0 * static_cast<double>(step));
    const double error = std::abs(numeric - analytic) / std::max(1.0, std::abs(numeric));
    if (error < best.error) best = {error, analytic - numeric};
  }
  return best;
}

// Every logit of one side (real or fake) of a batch.
struct SideCheck {
  double worst = 0;
  std::vector<double> misses;
};

SideCheck check_side(std::vector<float>& x, const std::vector<float>& analytic, const std::function<double()>& f) {
  SideCheck s;
  for (size_t i = 0; i < x.size(); ++i) {
    const Derivative d = check_derivative(x, i, analytic[i], f);
    s.worst = std::max(s.worst, d.error);
    s.misses.push_back(d.miss);
  }
  return s;
}

// A side whose derivatives all miss by about the same amount is the signature of a term missing
// through a batch mean (d mean / d x_i = 1/N for every logit): the coupling of relativistic losses.
std::string coupling_hint(const SideCheck& s, double tolerance, const char* side) {
  if (s.worst <= tolerance || s.misses.size() < 2) return "";
  double mean = 0;
  for (double m : s.misses) mean += m;
  mean /= static_cast<double>(s.misses.size());
  double spread = 0;
  for (double m : s.misses) spread = std::max(spread, std::abs(m - mean));
  if (spread > 0.05 * std::abs(mean)) return "";
  return fmt::format("; every {} logit's derivative is off by {:.3g}: a term through the batch mean (the "
                     "coupling of a relativistic loss) is missing or wrong",
                     side, mean);
}

bool all_finite(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

}  // namespace

LossCheckReport check_loss(Loss& loss, uint64_t seed, double tolerance) {
  LossCheckReport report;
  auto record = [&report](bool ok, std::string what) {
    report.passed = report.passed && ok;
    report.lines.push_back(fmt::format("{} {}", ok ? "PASS" : "FAIL", what));
  };
  // G sees real logits only when it asks for them, as in training.
  const bool g_reads_real = loss.uses_real_logits_in_generator_step();
  auto g_real = [g_reads_real](const std::vector<float>& r) {
    return g_reads_real ? std::span<const float>(r) : std::span<const float>();
  };

  Rng rng(derive_seed(seed, "check"));
  for (size_t n : {size_t{1}, size_t{7}, size_t{64}}) {
    std::vector<float> real(n), fake(n), gr(n), gf(n), sr(n), sf(n);
    rng.fill_normal(real, 0.0f, 3.0f);
    rng.fill_normal(fake, 0.0f, 3.0f);
    if (n == 64) real[0] = 30.0f, real[1] = -30.0f, fake[0] = 30.0f, fake[1] = -30.0f;
    loss.discriminator_loss(real, fake, gr, gf);
    auto d_value = [&] { return loss.discriminator_loss(real, fake, sr, sf); };
    const SideCheck d_real = check_side(real, gr, d_value), d_fake = check_side(fake, gf, d_value);
    // G's gradient is with respect to the fake logits only; the real ones are constants for G.
    loss.generator_loss(g_real(real), fake, gf);
    auto g_value = [&] { return loss.generator_loss(g_real(real), fake, sf); };
    const SideCheck g_fake = check_side(fake, gf, g_value);
    const double d_err = std::max(d_real.worst, d_fake.worst);
    report.worst_d_error = std::max(report.worst_d_error, d_err);
    report.worst_g_error = std::max(report.worst_g_error, g_fake.worst);
    record(d_err <= tolerance, fmt::format("D gradient, batch {}: worst relative error {:.2e}{}{}", n, d_err,
                                           coupling_hint(d_real, tolerance, "real"),
                                           coupling_hint(d_fake, tolerance, "fake")));
    record(g_fake.worst <= tolerance, fmt::format("G gradient, batch {}: worst relative error {:.2e}{}", n,
                                                  g_fake.worst, coupling_hint(g_fake, tolerance, "fake")));
  }

  const std::vector<float> large{-1000.0f, -100.0f, -30.0f, 30.0f, 100.0f, 1000.0f};
  std::vector<float> gr(large.size()), gf(large.size());
  const double dl = loss.discriminator_loss(large, large, gr, gf);
  bool finite = std::isfinite(dl) && all_finite(gr) && all_finite(gf);
  const double gl = loss.generator_loss(g_real(large), large, gf);
  finite = finite && std::isfinite(gl) && all_finite(gf);
  record(finite, "finite losses and gradients at |logit| up to 1000");

  const std::vector<float> zero{0.0f, 0.0f}, up{0.5f, 0.5f}, down{-0.5f, -0.5f};
  std::vector<float> a(2), b(2);
  const double d0 = loss.discriminator_loss(zero, zero, a, b);
  const double d1 = loss.discriminator_loss(up, down, a, b);
  record(d1 < d0, fmt::format("sign: D's loss falls when real logits rise and fake logits fall ({:.4g} -> {:.4g})", d0, d1));
  const double g0 = loss.generator_loss(g_real(zero), zero, a), g1 = loss.generator_loss(g_real(zero), up, a);
  record(g1 < g0, fmt::format("sign: G's loss falls when fake logits rise ({:.4g} -> {:.4g})", g0, g1));
  return report;
}

}  // namespace gantry
