#include "check/loss_check.hpp"

#include <gantry/random.hpp>

#include <cmath>
#include <fmt/format.h>
#include <functional>

namespace gantry {

namespace {

// Relative error of an analytic derivative against central differences at steps 1e-2 and 1e-3
// (the better of the two, so a kink near one point does not fail a correct loss).
double derivative_error(std::vector<float>& x, size_t i, double analytic, const std::function<double()>& f) {
  double best = std::numeric_limits<double>::infinity();
  for (float h : {1e-2f, 1e-3f}) {
    const float saved = x[i];
    const float step = h * std::max(1.0f, std::abs(saved));
    x[i] = saved + step;
    const double up = f();
    x[i] = saved - step;
    const double down = f();
    x[i] = saved;
    const double numeric = (up - down) / (2.0 * static_cast<double>(step));
    best = std::min(best, std::abs(numeric - analytic) / std::max(1.0, std::abs(numeric)));
  }
  return best;
}

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

}  // namespace

LossCheckReport check_loss(Loss& loss, uint64_t seed, double tolerance) {
  LossCheckReport report;
  auto record = [&report](bool ok, std::string what) {
    report.passed = report.passed && ok;
    report.lines.push_back(fmt::format("{} {}", ok ? "PASS" : "FAIL", what));
  };

  Rng rng(derive_seed(seed, "check"));
  for (size_t n : {size_t{1}, size_t{7}, size_t{64}}) {
    std::vector<float> real(n), fake(n), gr(n), gf(n), sr(n), sf(n);
    rng.fill_normal(real, 0.0f, 3.0f);
    rng.fill_normal(fake, 0.0f, 3.0f);
    if (n == 64) real[0] = 30.0f, real[1] = -30.0f, fake[0] = 30.0f, fake[1] = -30.0f;
    loss.discriminator_loss(real, fake, gr, gf);
    auto d_value = [&] { return loss.discriminator_loss(real, fake, sr, sf); };
    double d_err = 0;
    for (size_t i = 0; i < n; ++i) {
      d_err = std::max(d_err, derivative_error(real, i, gr[i], d_value));
      d_err = std::max(d_err, derivative_error(fake, i, gf[i], d_value));
    }
    loss.generator_loss(fake, gf);
    auto g_value = [&] { return loss.generator_loss(fake, sf); };
    double g_err = 0;
    for (size_t i = 0; i < n; ++i) g_err = std::max(g_err, derivative_error(fake, i, gf[i], g_value));
    report.worst_d_error = std::max(report.worst_d_error, d_err);
    report.worst_g_error = std::max(report.worst_g_error, g_err);
    record(d_err <= tolerance, fmt::format("D gradient, batch {}: worst relative error {:.2e}", n, d_err));
    record(g_err <= tolerance, fmt::format("G gradient, batch {}: worst relative error {:.2e}", n, g_err));
  }

  const std::vector<float> large{-1000.0f, -100.0f, -30.0f, 30.0f, 100.0f, 1000.0f};
  std::vector<float> gr(large.size()), gf(large.size());
  const double dl = loss.discriminator_loss(large, large, gr, gf);
  bool finite = std::isfinite(dl) && all_finite(gr) && all_finite(gf);
  const double gl = loss.generator_loss(large, gf);
  finite = finite && std::isfinite(gl) && all_finite(gf);
  record(finite, "finite losses and gradients at |logit| up to 1000");

  const std::vector<float> zero{0.0f, 0.0f}, up{0.5f, 0.5f}, down{-0.5f, -0.5f};
  std::vector<float> a(2), b(2);
  const double d0 = loss.discriminator_loss(zero, zero, a, b);
  const double d1 = loss.discriminator_loss(up, down, a, b);
  record(d1 < d0, fmt::format("sign: D's loss falls when real logits rise and fake logits fall ({:.4g} -> {:.4g})", d0, d1));
  const double g0 = loss.generator_loss(zero, a), g1 = loss.generator_loss(up, a);
  record(g1 < g0, fmt::format("sign: G's loss falls when fake logits rise ({:.4g} -> {:.4g})", g0, g1));
  return report;
}

}  // namespace gantry
