#pragma once
#include <gantry/loss.hpp>

#include <string>
#include <vector>

namespace gantry {

/// What `gantry check` found about a loss.
struct LossCheckReport {
  bool passed = true;
  double worst_d_error = 0;  ///< worst relative error of D's gradients against finite differences
  double worst_g_error = 0;  ///< same for G's gradient
  std::vector<std::string> lines;  ///< one line per check: "PASS ..." or "FAIL ..."
};

/// Checks a loss: its D and G gradients against central differences on random logits (batches of
/// 1, 7 and 64, logits up to |30|; G's with respect to the fake logits, given real logits when the
/// loss reads them), finite values and gradients at |logit| up to 1000, and the sign convention
/// (D's loss falls as real logits rise and fake logits fall; G's as fake rise).
LossCheckReport check_loss(Loss& loss, uint64_t seed = 0, double tolerance = 1e-3);

}  // namespace gantry
