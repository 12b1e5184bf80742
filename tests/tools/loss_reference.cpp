// loss_reference PLUGIN.so REFERENCE ENTRY: a loss plugin file (built anywhere, e.g. out of tree
// from an installed example) against PyTorch's values in tests/reference/REFERENCE, with the
// tolerances of the built-in losses' test (tests/plugins/losses_test.cpp): the losses to 1e-5
// relative, every gradient to 1e-6. Prints what it compared; exit 0 when everything matches.
#include "registry/registry.hpp"
#include "support/json.hpp"
#include "train/trainer.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <iostream>
#include <limits>

namespace {

std::vector<float> floats(const std::vector<double>& v) { return {v.begin(), v.end()}; }

// max |a − b| / max(1, |b|): absolute near zero, relative elsewhere.
double worst_error(std::span<const float> got, const std::vector<double>& want) {
  if (got.size() != want.size()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::abs(got[i] - want[i]) / std::max(1.0, std::abs(want[i])));
  return worst;
}

int compare(const std::string& plugin, const std::string& reference, const std::string& entry) {
  auto lib = gantry::load_plugin_library(plugin);
  auto loss = gantry::instantiate<gantry::Loss>(
      gantry::PluginChoice{"loss", lib.get(), gantry::Params::defaults(lib->descriptor->params)}, {{1}, 0});
  const auto ref = gantry::test::reference(reference);
  const auto& want = ref[entry];
  const auto real = floats(ref["real_logits"].numbers()), fake = floats(ref["fake_logits"].numbers());
  const bool reads_real = loss->uses_real_logits_in_generator_step();
  const auto g_real = reads_real ? floats(ref["g_real_logits"].numbers()) : std::vector<float>{};
  std::vector<float> gr(real.size()), gf(fake.size()), gg(fake.size());
  const double d = loss->discriminator_loss(real, fake, gr, gf);
  const double g = loss->generator_loss(g_real, fake, gg);
  auto rel = [](double a, double b) { return std::abs(a - b) / std::max(1.0, std::abs(b)); };
  const double d_err = rel(d, want["d_loss"].number), g_err = rel(g, want["g_loss"].number);
  const double grad_err = std::max({worst_error(gr, want["d_grad_real"].numbers()),
                                    worst_error(gf, want["d_grad_fake"].numbers()),
                                    worst_error(gg, want["g_grad_fake"].numbers())});
  const bool ok = d_err <= 1e-5 && g_err <= 1e-5 && grad_err <= 1e-6;
  std::cout << fmt::format("{} against {} of {}: D's loss {:.9g} (PyTorch {:.9g}), G's loss {:.9g} (PyTorch {:.9g}), "
                           "worst gradient error {:.2e}: {}\n",
                           lib->name(), entry, reference, d, want["d_loss"].number, g, want["g_loss"].number, grad_err,
                           ok ? "match" : "MISMATCH");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: loss_reference PLUGIN.so REFERENCE ENTRY (a file of tests/reference and its entry)\n";
    return 2;
  }
  try {
    return compare(argv[1], argv[2], argv[3]);
  } catch (const std::exception& e) {
    std::cerr << "loss_reference: " << e.what() << "\n";
    return 1;
  }
}
