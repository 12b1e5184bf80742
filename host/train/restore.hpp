#pragma once
// Puts a stored checkpoint's networks back into freshly built models, for sampling and scoring a
// trained run (`gantry generate`, `gantry evaluate`) rather than continuing its training.
#include "train/checkpoint.hpp"
#include "train/ema.hpp"
#include "train/trainer.hpp"

#include <filesystem>

namespace gantry {

/// Which generator weights to put into G.
enum class GeneratorCopy { raw, ema };

/// Copies G's parameters and buffers (the EMA average's with GeneratorCopy::ema), and D's unless
/// `with_discriminator` is false, from `ckpt` (read from `file`) into `models`. Throws
/// CheckpointError naming the file when its architecture is not the models' (the first differing
/// line), when a tensor is missing or has another shape; nothing is copied unless all fit.
void restore_networks(const CheckpointTensors& ckpt, const std::filesystem::path& file, const TrialConfig& trial,
                      TrialModels& models, GeneratorCopy copy, bool with_discriminator);
/// Copies the checkpoint's EMA average into `ema` (built on the models' G). Same errors.
void restore_ema(const CheckpointTensors& ckpt, const std::filesystem::path& file, GeneratorEma& ema);

}  // namespace gantry
