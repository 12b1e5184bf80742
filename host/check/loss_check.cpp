#include "check/loss_check.hpp"

#include <gantry/random.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <functional>
#include <limits>

namespace gantry {

namespace {

const char* non_finite_name(double v) { return std::isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf"; }

// A number in a message: 4 significant digits, or NaN / +inf / -inf spelled as in the finiteness lines.
std::string number(double v) { return std::isfinite(v) ? fmt::format("{:.4g}", v) : non_finite_name(v); }

// Records one check's line and, when it fails, its property (once) for the final verdict.
void record(LossCheckReport& report, bool ok, const std::string& property, const std::string& text) {
  report.passed = report.passed && ok;
  report.lines.push_back(fmt::format("{} {}", ok ? "PASS" : "FAIL", text));
  if (!ok && std::find(report.failed.begin(), report.failed.end(), property) == report.failed.end())
    report.failed.push_back(property);
}

// One derivative against central differences at steps 1e-2 and 1e-3, keeping the better of the
// two (so a kink near one point does not fail a correct loss). A miss within the rounding noise of
// the difference quotient (the loss's value times a few machine epsilons, over the step) is no
// evidence: a loss of 1e14 cannot resolve a derivative of 1 with any step.
struct Derivative {
  double error = std::numeric_limits<double>::infinity();
  double analytic = 0;
  double numeric = 0;
};

Derivative check_derivative(std::vector<float>& x, size_t i, double analytic, const std::function<double()>& f) {
  Derivative best;
  for (float h : {1e-2f, 1e-3f}) {
    const float saved = x[i];
    const float step = h * std::max(1.0f, std::abs(saved));
    x[i] = saved + step;
    const double up = f();
    x[i] = saved - step;
    const double down = f();
    x[i] = saved;
    const double numeric = (up - down) / (2.0 * static_cast<double>(step));
    const double noise = 64.0 * std::numeric_limits<double>::epsilon() * std::max(std::abs(up), std::abs(down)) /
                         static_cast<double>(step);
    // A NaN or infinite derivative or loss fails outright (and must not vanish in the noise floor).
    const double miss = std::abs(numeric - analytic);
    const double error = std::isfinite(miss) ? std::max(0.0, miss - noise) / std::max(1.0, std::abs(numeric))
                                             : std::numeric_limits<double>::infinity();
    if (error < best.error || h == 1e-2f) best = {error, analytic, numeric};
  }
  return best;
}

// Every logit of one side (real or fake) of a batch, and where it was worst.
struct SideCheck {
  const char* side = "";
  double worst = 0;
  size_t worst_index = 0;
  Derivative at_worst;
  float worst_logit = 0;
  std::vector<double> misses;  // analytic − numeric, per logit
};

SideCheck check_side(const char* side, std::vector<float>& x, const std::vector<float>& analytic,
                     const std::function<double()>& f) {
  SideCheck s;
  s.side = side;
  for (size_t i = 0; i < x.size(); ++i) {
    const Derivative d = check_derivative(x, i, analytic[i], f);
    if (i == 0 || d.error > s.worst) s.worst = d.error, s.worst_index = i, s.at_worst = d, s.worst_logit = x[i];
    s.misses.push_back(d.analytic - d.numeric);
  }
  return s;
}

// A side whose derivatives all miss by about the same amount is the signature of a term missing
// through a batch mean (d mean / d x_i = 1/N for every logit): the coupling of relativistic losses.
std::string coupling_hint(const SideCheck& s, double tolerance) {
  if (s.worst <= tolerance || s.misses.size() < 2) return "";
  double mean = 0;
  for (double m : s.misses) mean += m;
  mean /= static_cast<double>(s.misses.size());
  if (!std::isfinite(mean)) return "";
  double spread = 0;
  for (double m : s.misses) spread = std::max(spread, std::abs(m - mean));
  if (spread > 0.05 * std::abs(mean)) return "";
  return fmt::format("; every {} logit's derivative is off by {:.3g}: a term through the batch mean (the "
                     "coupling of a relativistic loss) is missing or wrong",
                     s.side, mean);
}

// "at fake logit 3 of 7 (-1.23): analytic -0.0412, finite differences 0.0412, the opposite sign"
std::string where_worst(const SideCheck& s, size_t n) {
  const Derivative& d = s.at_worst;
  const bool flipped = std::abs(d.analytic + d.numeric) < 0.01 * std::abs(d.numeric) && d.numeric != 0;
  return fmt::format(" at {} logit {} of {} ({:.4g}): analytic {}, finite differences {}{}", s.side, s.worst_index, n,
                     s.worst_logit, number(d.analytic), number(d.numeric), flipped ? ", the opposite sign" : "");
}

// One loss's gradient at one batch size; `sides` are the logits it is differentiated by. Returns
// whether the misses look like a missing coupling term.
bool record_gradient(LossCheckReport& report, const char* who, size_t n, const std::vector<const SideCheck*>& sides,
                     double tolerance) {
  const SideCheck* worst = *std::max_element(sides.begin(), sides.end(),
                                             [](const SideCheck* a, const SideCheck* b) { return a->worst < b->worst; });
  const bool ok = worst->worst <= tolerance;
  std::string text = fmt::format("gradient of {}'s loss, batch {}: worst relative error {:.2e}", who, n, worst->worst);
  if (!ok) text += where_worst(*worst, n);
  std::string hints;
  for (const SideCheck* s : sides) hints += coupling_hint(*s, tolerance);
  record(report, ok, fmt::format("gradient ({})", who), text + hints);
  double& worst_error = who[0] == 'D' ? report.worst_d_error : report.worst_g_error;
  worst_error = std::max(worst_error, worst->worst);
  return !hints.empty();
}

std::span<const float> g_real_view(const Loss& loss, const std::vector<float>& r) {
  // G sees real logits only when it asks for them, as in training.
  return loss.uses_real_logits_in_generator_step() ? std::span<const float>(r) : std::span<const float>();
}

// A loss that is not finite at the batch itself has nothing to compare: say that, not which logit
// the NaN happened to reach first.
bool finite_at_batch(LossCheckReport& report, const char* who, size_t n, double value) {
  if (std::isfinite(value)) return true;
  record(report, false, fmt::format("gradient ({})", who),
         fmt::format("gradient of {}'s loss, batch {}: the loss itself is {} at these logits (see finiteness)", who, n,
                     non_finite_name(value)));
  return false;
}

void check_gradients(Loss& loss, LossCheckReport& report, uint64_t seed, double tolerance) {
  Rng rng(derive_seed(seed, "check"));
  bool coupling_d = false, coupling_g = false;
  for (size_t n : {size_t{1}, size_t{7}, size_t{64}}) {
    std::vector<float> real(n), fake(n), gr(n), gf(n), sr(n), sf(n);
    rng.fill_normal(real, 0.0f, 3.0f);
    rng.fill_normal(fake, 0.0f, 3.0f);
    if (n == 64) real[0] = 30.0f, real[1] = -30.0f, fake[0] = 30.0f, fake[1] = -30.0f;
    if (finite_at_batch(report, "D", n, loss.discriminator_loss(real, fake, gr, gf))) {
      auto d_value = [&] { return loss.discriminator_loss(real, fake, sr, sf); };
      const SideCheck d_real = check_side("real", real, gr, d_value), d_fake = check_side("fake", fake, gf, d_value);
      coupling_d = record_gradient(report, "D", n, {&d_real, &d_fake}, tolerance) || coupling_d;
    }
    // G's gradient is with respect to the fake logits only; the real ones are constants for G.
    if (finite_at_batch(report, "G", n, loss.generator_loss(g_real_view(loss, real), fake, gf))) {
      auto g_value = [&] { return loss.generator_loss(g_real_view(loss, real), fake, sf); };
      const SideCheck g_fake = check_side("fake", fake, gf, g_value);
      coupling_g = record_gradient(report, "G", n, {&g_fake}, tolerance) || coupling_g;
    }
  }
  // The verdict names the likely fault, as the lines do.
  for (std::string& property : report.failed)
    if ((property == "gradient (D)" && coupling_d) || (property == "gradient (G)" && coupling_g))
      property.insert(property.size() - 1, ", missing coupling term");
}

// What is not finite about one evaluation: "value +inf, gradient NaN on the real logit".
std::string non_finite(double value, std::span<const float> grad_real, std::span<const float> grad_fake) {
  std::vector<std::string> parts;
  if (!std::isfinite(value)) parts.push_back(fmt::format("value {}", non_finite_name(value)));
  if (!grad_real.empty() && !std::isfinite(grad_real[0]))
    parts.push_back(fmt::format("gradient {} on the real logit", non_finite_name(grad_real[0])));
  if (!std::isfinite(grad_fake[0])) parts.push_back(fmt::format("gradient {} on the fake logit", non_finite_name(grad_fake[0])));
  return fmt::format("{}", fmt::join(parts, ", "));
}

// One logit on each side (none on G's real side unless it reads them), at magnitude m: first each
// side alone (so the fault points at one term), then both large together.
std::vector<std::pair<float, float>> probes(float m) {
  return {{-m, 0}, {m, 0}, {0, -m}, {0, m}, {-m, -m}, {-m, m}, {m, -m}, {m, m}};
}

// The first probe of one loss that is not finite at magnitude m, or "" (and counts the others).
std::string first_non_finite(Loss& loss, bool d_loss, float m, size_t& others) {
  const bool relativistic = loss.uses_real_logits_in_generator_step();
  std::string first;
  for (const auto& [r, f] : probes(m)) {
    if (!d_loss && !relativistic && r != 0) continue;  // G without real logits: the fake side only
    const std::vector<float> real{r}, fake{f};
    std::vector<float> gr(1), gf(1);
    const bool with_real = d_loss || relativistic;
    const double v = d_loss ? loss.discriminator_loss(real, fake, gr, gf)
                            : loss.generator_loss(with_real ? std::span<const float>(real) : std::span<const float>(), fake, gf);
    const std::string what = non_finite(v, d_loss ? std::span<const float>(gr) : std::span<const float>(), gf);
    if (what.empty()) continue;
    if (!first.empty()) {
      ++others;
      continue;
    }
    // The terms a formula loss would evaluate here, so its author knows which line to look at.
    const std::string terms = d_loss ? (relativistic ? fmt::format("d_real({0}, {1}) + d_fake({1}, {0})", r, f)
                                                     : fmt::format("d_real({}) + d_fake({})", r, f))
                                     : (relativistic ? fmt::format("g_fake({1}, {0}) + g_real({0}, {1})", r, f)
                                                     : fmt::format("g_fake({})", f));
    const std::string logits = with_real ? fmt::format("real logit {}, fake logit {}", r, f) : fmt::format("fake logit {}", f);
    first = fmt::format("{}'s loss at {}: {} (in a formula: {})", d_loss ? "D" : "G", logits, what, terms);
  }
  return first;
}

void check_finiteness(Loss& loss, LossCheckReport& report) {
  for (float m : finiteness_magnitudes) {
    size_t others = 0;
    std::vector<std::string> found;
    for (bool d_loss : {true, false})
      if (std::string s = first_non_finite(loss, d_loss, m, others); !s.empty()) found.push_back(std::move(s));
    const std::string property = fmt::format("finiteness at |logit| {}", m);
    if (found.empty()) {
      record(report, true, property, property + ": losses and gradients finite");
      continue;
    }
    std::string text = fmt::format("{}: {}", property, fmt::join(found, "; "));
    if (others > 0) text += fmt::format("; and at {} more pair(s) of logits", others);
    record(report, false, property, text);
  }
}

void check_sign(Loss& loss, LossCheckReport& report) {
  const std::vector<float> zero{0.0f, 0.0f}, up{0.5f, 0.5f}, down{-0.5f, -0.5f};
  std::vector<float> a(2), b(2);
  const double d0 = loss.discriminator_loss(zero, zero, a, b);
  const double d1 = loss.discriminator_loss(up, down, a, b);
  record(report, d1 < d0, "sign (D)",
         fmt::format("sign of D's loss: {} when real logits rise and fake logits fall ({:.4g} -> {:.4g}){}",
                     d1 < d0 ? "falls" : "does not fall", d0, d1,
                     d1 < d0 ? "" : "; gantry's D gives real samples high logits and fake ones low logits"));
  const double g0 = loss.generator_loss(g_real_view(loss, zero), zero, a);
  const double g1 = loss.generator_loss(g_real_view(loss, zero), up, a);
  record(report, g1 < g0, "sign (G)",
         fmt::format("sign of G's loss: {} when fake logits rise ({:.4g} -> {:.4g}){}", g1 < g0 ? "falls" : "does not fall",
                     g0, g1, g1 < g0 ? "" : "; G must gain by making D's fake logits high (look real)"));
}

}  // namespace

LossCheckReport check_loss(Loss& loss, uint64_t seed, double tolerance) {
  LossCheckReport report;
  check_gradients(loss, report, seed, tolerance);
  check_finiteness(loss, report);
  check_sign(loss, report);
  return report;
}

}  // namespace gantry
