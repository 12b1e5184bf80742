#pragma once
#include "registry/registry.hpp"

#include <gantry/params.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace gantry {

/// A place in an experiment file, for error messages ("file:line:column").
struct SourcePos {
  std::string file;
  int64_t line = 1;
  int64_t column = 1;
  std::string str() const;
};

/// One plugin section of an experiment, resolved: the plugin and every one of its parameters.
struct PluginChoice {
  std::string section;  ///< "data", "loss", "metrics.modes"
  const PluginLibrary* library = nullptr;
  Params params;
  const std::string& plugin() const { return library->name(); }
};

/// Everything one trial needs, fully resolved (defaults filled in).
struct TrialConfig {
  PluginChoice data, generator, discriminator, loss;
  std::vector<PluginChoice> metrics;
  Params optimizer;
  Params train;
  uint64_t seed = 0;
};

/// The resolved leaves of a trial as (dotted key, value), one per parameter, in a fixed order:
/// "data.plugin", "data.radius", ..., "metrics.modes.threshold", "optimizer.lr", "train.steps".
std::vector<std::pair<std::string, ParamValue>> config_leaves(const TrialConfig& trial);
/// The trial's identity: SHA-256 of its leaves and seed. Same config and seed ⇒ same run.
std::string trial_identity(const TrialConfig& trial);

struct Experiment {
  std::string name;
  std::string file;
  std::string source;  ///< the TOML text, stored with the experiment
  std::vector<uint64_t> seeds;
  TrialConfig base;    ///< seed left at 0
  /// One trial per seed.
  std::vector<TrialConfig> trials() const;
};

/// Schemas of the built-in sections.
const std::vector<ParamSpec>& experiment_schema();
const std::vector<ParamSpec>& optimizer_schema();
const std::vector<ParamSpec>& train_schema();

/// Parses and validates an experiment file against the registry's plugins. Every problem is
/// reported at once in one ConfigError, one "file:line:column: message" per line.
Experiment load_experiment(const std::filesystem::path& file, const Registry& registry);
/// Same, from text (`file` names it in messages).
Experiment parse_experiment(std::string_view text, const std::string& file, const Registry& registry);

}  // namespace gantry
