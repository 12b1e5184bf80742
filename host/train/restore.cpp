#include "train/restore.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace gantry {

namespace {

void check_architecture(const CheckpointTensors& ckpt, const std::filesystem::path& file,
                        const std::vector<std::string>& ours) {
  const auto& theirs = ckpt.architecture;
  if (theirs == ours) return;
  const auto [a, b] = std::mismatch(theirs.begin(), theirs.end(), ours.begin(), ours.end());
  throw CheckpointError(fmt::format("checkpoint {}: made by another architecture: the file has {} where this run has {}",
                                    file.string(), a == theirs.end() ? "nothing more" : fmt::format("'{}'", *a),
                                    b == ours.end() ? "nothing more" : fmt::format("'{}'", *b)));
}

// (tensor in the file, tensor to fill) pairs, checked all before any is copied.
using Plan = std::vector<std::pair<const Tensor*, Tensor*>>;

void add(Plan& plan, const CheckpointTensors& ckpt, const std::filesystem::path& file, const std::string& name,
         Tensor* target) {
  const auto it = ckpt.tensors.find(name);
  if (it == ckpt.tensors.end())
    throw CheckpointError(fmt::format("checkpoint {}: has no tensor '{}'", file.string(), name));
  if (it->second.shape() != target->shape())
    throw CheckpointError(fmt::format("checkpoint {}: tensor '{}' has shape {} where the model's has {}", file.string(),
                                      name, shape_string(it->second.shape()), shape_string(target->shape())));
  plan.emplace_back(&it->second, target);
}

void copy_all(const Plan& plan) {
  for (const auto& [from, to] : plan) std::memcpy(to->data(), from->data(), static_cast<size_t>(to->size()) * sizeof(float));
}

// The average's name of G's tensor: "g.param.3.NAME" → "ema.param.3", "g.buffer.0" → "ema.buffer.0"
// (GeneratorEma numbers G's parameters and buffers as network_tensors does, without the names).
std::string ema_name(const std::string& g_name) {
  if (g_name.starts_with("g.buffer.")) return "ema.buffer." + g_name.substr(9);
  const size_t dot = g_name.find('.', 8);
  return "ema.param." + g_name.substr(8, dot - 8);
}

}  // namespace

void restore_networks(const CheckpointTensors& ckpt, const std::filesystem::path& file, const TrialConfig& trial,
                      TrialModels& models, GeneratorCopy copy, bool with_discriminator) {
  check_architecture(ckpt, file, checkpoint_architecture(trial, models));
  Plan plan;
  for (const auto& [name, target] : network_tensors("g", models.generator->layer()))
    add(plan, ckpt, file, copy == GeneratorCopy::ema ? ema_name(name) : name, target);
  if (with_discriminator)
    for (const auto& [name, target] : network_tensors("d", models.discriminator->layer())) add(plan, ckpt, file, name, target);
  copy_all(plan);
}

void restore_ema(const CheckpointTensors& ckpt, const std::filesystem::path& file, GeneratorEma& ema) {
  Plan plan;
  for (const auto& [name, target] : ema.tensors()) add(plan, ckpt, file, name, target);
  copy_all(plan);
}

}  // namespace gantry
