#pragma once
// `gantry generate`: samples from a stored run's G, as it was at one of its checkpoints.
#include "registry/registry.hpp"
#include "store/sqlite.hpp"
#include "store/stored_trial.hpp"
#include "train/restore.hpp"
#include "train/trainer.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace gantry {

/// A run's G rebuilt and loaded from one of its checkpoints (its D is not loaded).
struct LoadedGenerator {
  StoredTrial trial;
  TrialModels models;
  int64_t step = 0;
  GeneratorCopy copy = GeneratorCopy::raw;
};

/// Loads run `run_id`'s G from its checkpoint at `step` (nullopt: the newest), the EMA average
/// or G's own weights (`copy`; nullopt: the EMA when the run kept one). ConfigError when the run
/// has no checkpoint (at that step: the message lists the steps it has) or no EMA and `copy` asks
/// for it; CheckpointError when the file cannot be used.
LoadedGenerator load_generator(Database& db, const std::filesystem::path& db_path, const Registry& registry,
                               int64_t run_id, std::optional<int64_t> step, std::optional<GeneratorCopy> copy);

/// `count` latent vectors drawn from the normal stream derive_seed(seed, "generate.z").
Tensor generation_latents(uint64_t seed, int64_t count, int64_t latent_dim);
/// `rows` × `k` latent vectors: row r goes in k steps along the great circle (spherical
/// interpolation, slerp) from one normal draw to the next, both drawn from derive_seed(seed,
/// "generate.z") — the path a Gaussian latent's samples actually lie near, unlike a straight line.
Tensor interpolation_latents(uint64_t seed, int64_t rows, int64_t k, int64_t latent_dim);
/// G's samples (evaluation mode) for `z`; a conditional G makes row i for class labels[i].
Tensor generate_samples(LoadedGenerator& g, const Tensor& z, std::span<const int32_t> labels = {});

struct GenerateOptions {
  int64_t run_id = 0;
  std::optional<int64_t> step;
  std::optional<GeneratorCopy> copy;
  int64_t count = 64;        ///< samples, or rows with interpolate
  std::filesystem::path out;  ///< .png grid, .npy array, or a folder of PNGs
  uint64_t seed = 0;
  int64_t interpolate = 0;    ///< > 0: rows of this many interpolation steps
};

/// What generate wrote, for the command's one-line report.
struct GenerateReport {
  int64_t step = 0;
  GeneratorCopy copy = GeneratorCopy::raw;
  std::string what;  ///< "a 4×3 grid", "a [64, 2] array", "10 PNG files"
};

GenerateReport generate(Database& db, const std::filesystem::path& db_path, const Registry& registry,
                        const GenerateOptions& options);

/// `t` as a numpy .npy file (format 1.0, little-endian float32, C order) with shape `shape`.
std::string npy_bytes(const Tensor& t, const std::vector<int64_t>& shape);

}  // namespace gantry
