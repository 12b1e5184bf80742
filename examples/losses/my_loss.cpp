// my_loss: a GAN loss written as three per-sample terms on D's raw logits. gantry takes the
// batch means and derives the exact gradients with dual numbers, so only the formula is yours.
// Use gantry::softplus, gantry::sigmoid, gantry::relu, gantry::square, exp and log on T.
// A relativistic-average loss (each term on one logit and the mean of the other side's logits)
// derives from gantry::RelativisticFormulaLoss instead, with four terms: d_real(r, mean_fake),
// d_fake(f, mean_real), g_fake(f, mean_real), g_real(r, mean_fake); see <gantry/loss.hpp>.
#include <gantry/loss.hpp>

namespace {

struct Formula {
  double weight;  // an example parameter, declared in describe() below; remove it or add your own

  // The non-saturating loss, as a starting point: replace these three lines with your formula.
  template <class T> T d_real(T r) const { return weight * gantry::softplus(-r); }  // D, real logit r
  template <class T> T d_fake(T f) const { return weight * gantry::softplus(f); }   // D, fake logit f
  template <class T> T g_fake(T f) const { return gantry::softplus(-f); }           // G, fake logit f
};

class Loss final : public gantry::FormulaLoss<Formula> {
 public:
  Loss(const gantry::Params& p, const gantry::BuildContext&) : FormulaLoss(Formula{p.real("weight")}) {}
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::loss, "my_loss", "0.1.0", "my_loss loss (made with gantry new loss)",
          // name, default, doc, min, max. Not down to 0: D's loss would be constant there, and
          // gantry check tries every numeric parameter at both ends of its range.
          {gantry::real_param("weight", 1.0, "scale of D's loss", 0.1, 10.0)},
          gantry::factory_of<Loss>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
