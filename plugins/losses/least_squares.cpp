// least_squares: LSGAN (Mao et al. 2017) with targets a (fake) and b (real) for D and c for G.
//   D minimises ½(r − b)² + ½(f − a)²;   G minimises ½(f − c)²
// The defaults a = 0, b = c = 1 are the paper's 0-1 coding.
#include <gantry/loss.hpp>

namespace {

struct LeastSquares {
  double a, b, c;
  template <class T> T d_real(T r) const { return 0.5 * gantry::square(r - b); }
  template <class T> T d_fake(T f) const { return 0.5 * gantry::square(f - a); }
  template <class T> T g_fake(T f) const { return 0.5 * gantry::square(f - c); }
};

class LeastSquaresLoss final : public gantry::FormulaLoss<LeastSquares> {
 public:
  LeastSquaresLoss(const gantry::Params& p, const gantry::BuildContext&)
      : FormulaLoss(LeastSquares{p.real("a"), p.real("b"), p.real("c")}) {}
};

gantry::PluginDescriptor describe() {
  return {gantry::PluginKind::loss, "least_squares", "1.0.0", "least-squares GAN loss (LSGAN, Mao et al. 2017)",
          {gantry::real_param("a", 0.0, "D's target for fake samples"),
           gantry::real_param("b", 1.0, "D's target for real samples"),
           gantry::real_param("c", 1.0, "the value G wants D to output for its samples")},
          gantry::factory_of<LeastSquaresLoss>()};
}

}  // namespace

GANTRY_PLUGIN(describe)
