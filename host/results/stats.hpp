#pragma once
#include <span>

namespace gantry {

struct Summary {
  long n = 0;
  double mean = 0, stddev = 0, min = 0, max = 0;  ///< stddev: sample (n − 1); 0 when n < 2
};
Summary summarize(std::span<const double> values);

/// Regularized incomplete beta function I_x(a, b).
double incomplete_beta(double a, double b, double x);
/// Two-sided p-value of Student's t with `df` degrees of freedom (df may be fractional).
double student_t_p(double t, double df);

struct WelchTest {
  double t = 0, df = 0, p = 1;
};
/// Welch's unequal-variance t-test of mean(a) vs mean(b); needs at least two values in each.
WelchTest welch_t_test(std::span<const double> a, std::span<const double> b);

}  // namespace gantry
