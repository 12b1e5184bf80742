#pragma once
#include <gantry/loss.hpp>

#include <string>
#include <vector>

namespace gantry {

/// What `gantry check` found about a loss at one setting of its parameters.
struct LossCheckReport {
  bool passed = true;
  double worst_d_error = 0;  ///< worst relative error of D's gradients against finite differences
  double worst_g_error = 0;  ///< same for G's gradient
  std::vector<std::string> lines;   ///< one line per check: "PASS ..." or "FAIL ..."
  /// Each property that failed, once, in the order checked: "gradient (D)", "gradient (G)",
  /// "finiteness at |logit| 1000", "sign (D)", "sign (G)".
  std::vector<std::string> failed;
};

/// The logit sizes at which losses and gradients must stay finite.
inline constexpr float finiteness_magnitudes[] = {30.0f, 100.0f, 1000.0f};

/// Checks a loss: its D and G gradients against central differences on random logits (batches of
/// 1, 7 and 64, logits up to |30|; G's with respect to the fake logits, given real logits when the
/// loss reads them), finite values and gradients with logits of each finiteness_magnitudes on
/// either side, and the sign convention (D's loss falls as real logits rise and fake logits fall;
/// G's as fake rise). Failing lines name the loss (D's or G's), the logit (real or fake, which
/// one, its value) and, for finiteness, whether the value was NaN, +inf or -inf.
LossCheckReport check_loss(Loss& loss, uint64_t seed = 0, double tolerance = 1e-3);

}  // namespace gantry
