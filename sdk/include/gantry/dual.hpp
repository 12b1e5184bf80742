#pragma once
#include <algorithm>
#include <cmath>

namespace gantry {

/// A forward-mode dual number v + d·ε (ε² = 0): evaluating f on {x, 1} gives {f(x), f'(x)}.
struct Dual {
  double v = 0;
  double d = 0;
  constexpr Dual() = default;
  constexpr Dual(double value) : v(value) {}  // NOLINT: constants lift implicitly
  constexpr Dual(double value, double deriv) : v(value), d(deriv) {}
};

constexpr Dual operator+(Dual a, Dual b) { return {a.v + b.v, a.d + b.d}; }
constexpr Dual operator-(Dual a, Dual b) { return {a.v - b.v, a.d - b.d}; }
constexpr Dual operator-(Dual a) { return {-a.v, -a.d}; }
constexpr Dual operator*(Dual a, Dual b) { return {a.v * b.v, a.d * b.v + a.v * b.d}; }
constexpr Dual operator/(Dual a, Dual b) { return {a.v / b.v, (a.d * b.v - a.v * b.d) / (b.v * b.v)}; }
inline Dual exp(Dual a) { double e = std::exp(a.v); return {e, a.d * e}; }
inline Dual log(Dual a) { return {std::log(a.v), a.d / a.v}; }
inline Dual log1p(Dual a) { return {std::log1p(a.v), a.d / (1.0 + a.v)}; }
inline Dual sqrt(Dual a) { double s = std::sqrt(a.v); return {s, a.d / (2.0 * s)}; }
inline Dual abs(Dual a) { return a.v < 0 ? -a : a; }
inline Dual square(Dual a) { return a * a; }

// Stable on logits of any size: softplus(x) = max(x, 0) + log1p(exp(-|x|)), never log(sigmoid).
inline double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  double e = std::exp(x);
  return e / (1.0 + e);
}
inline double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }
inline double relu(double x) { return x > 0 ? x : 0.0; }
inline double square(double x) { return x * x; }
inline Dual sigmoid(Dual a) { double s = sigmoid(a.v); return {s, a.d * s * (1.0 - s)}; }
inline Dual softplus(Dual a) { return {softplus(a.v), a.d * sigmoid(a.v)}; }
/// relu'(0) is taken as 0, as PyTorch does.
inline Dual relu(Dual a) { return a.v > 0 ? a : Dual{0.0, 0.0}; }

}  // namespace gantry
