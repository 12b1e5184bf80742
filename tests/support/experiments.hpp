#pragma once
// Small experiments for tests: tiny models, few steps, fixed seeds.
#include "config/experiment.hpp"

#include <filesystem>
#include <string>
#include <unistd.h>

namespace gantry::test {

/// The four plugin sections every experiment needs, at the plugins' defaults (ring8, MLPs,
/// non-saturating loss).
inline constexpr const char* minimal_sections = R"(
[data]
plugin = "ring8"
[generator]
plugin = "mlp"
[discriminator]
plugin = "mlp"
[loss]
plugin = "nonsaturating"
)";

/// A ring8 experiment with small MLPs; `train_extra` goes into [train], `extra` at the end.
inline std::string tiny_experiment(const std::string& loss_section, int64_t steps, const std::string& train_extra = "",
                                   const std::string& extra = "") {
  return R"([experiment]
name = "tiny"
[data]
plugin = "ring8"
[generator]
plugin = "mlp"
width = 32
depth = 2
[discriminator]
plugin = "mlp"
width = 32
depth = 2
[loss]
)" + loss_section + R"(
[optimizer]
lr = 1e-3
[train]
steps = )" + std::to_string(steps) + R"(
batch_size = 64
log_every = 10
eval_every = 20
eval_samples = 500
)" + train_extra + R"(
[metrics.modes]
[metrics.disc_accuracy]
samples = 500
)" + extra;
}

/// A DCGAN on two Fashion-MNIST classes with tiny widths; `d_extra` goes into [discriminator],
/// `train_extra` into [train], `extra` at the end.
inline std::string tiny_dcgan_experiment(const std::string& d_extra, const std::string& train_extra = "",
                                         const std::string& extra = "") {
  return R"([data]
plugin = "fashion_mnist"
classes = [1, 7]
[generator]
plugin = "dcgan"
latent_dim = 8
channels = 4
[discriminator]
plugin = "dcgan"
channels = 4
)" + d_extra + R"(
[loss]
plugin = "nonsaturating"
[train]
steps = 4
batch_size = 8
log_every = 2
eval_every = 2
eval_samples = 20
)" + train_extra + "\n" + extra;
}

/// A fresh temporary folder, removed when the object dies.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gantry-test-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace gantry::test
