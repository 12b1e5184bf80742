#pragma once
#include "util/source_pos.hpp"
#include "registry/registry.hpp"

#include <gantry/params.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gantry {


/// One plugin section of an experiment, resolved: the plugin and every one of its parameters.
struct PluginChoice {
  std::string section;  ///< "data", "loss", "metrics.modes"
  const PluginLibrary* library = nullptr;
  Params params;
  const std::string& plugin() const { return library->name(); }
};

/// One network's Adam settings (lr, beta1, beta2, eps): [optimizer] overridden by its sub-table
/// [optimizer.generator] or [optimizer.discriminator] (two time-scale updates).
struct NetworkOptimizer {
  Params params;
  bool overridden = false;  ///< the sub-table exists (in the file or a sweep): its values are leaves
};

/// Everything one trial needs, fully resolved (defaults filled in).
struct TrialConfig {
  PluginChoice data, generator, discriminator, loss;
  std::vector<PluginChoice> metrics;
  Params optimizer;  ///< [optimizer]: lr, beta1, beta2, eps (each network's unless overridden), lr_decay
  NetworkOptimizer generator_optimizer, discriminator_optimizer;
  Params train;
  uint64_t seed = 0;
  /// Every plugin section: data, generator, discriminator, loss, then the metrics in file order.
  std::vector<const PluginChoice*> plugins() const;
};

/// The resolved leaves of a trial as (dotted key, value), one per parameter, in a fixed order:
/// "data.plugin", "data.radius", ..., "metrics.modes.threshold", "optimizer.lr", "train.steps";
/// "optimizer.discriminator.lr" etc. (all four, resolved) for a network whose sub-table exists.
std::vector<std::pair<std::string, ParamValue>> config_leaves(const TrialConfig& trial);
/// SHA-256 of the trial's leaves and seed: the same settings, whatever the plugins' binaries
/// (what gantry called the trial's identity before schema 5, "gantry-trial-v1").
std::string config_identity(const TrialConfig& trial);
/// The trial's identity: its config identity and the file SHA-256 of every plugin it loads. Same
/// config, seed and plugin binaries ⇒ same run; a rebuilt plugin makes its trials new ones.
std::string trial_identity(const TrialConfig& trial);
/// The same from its parts: `builds` holds (section, file SHA-256) per plugin, in any order.
/// The store's migration to schema 5 recomputes stored runs' identities with it.
std::string trial_identity(const std::string& config_identity,
                           std::vector<std::pair<std::string, std::string>> builds);

/// One trial of an experiment: a sweep point with one seed.
struct Trial {
  size_t index = 0;
  TrialConfig config;
  std::vector<std::string> swept;  ///< the value of each Experiment::sweep_columns entry ("" when unset)
  std::string identity;            ///< trial_identity(config)
  std::string config_identity;     ///< config_identity(config)
};

struct Experiment {
  std::string name;
  std::string file;
  std::string source;  ///< the TOML text, stored with the experiment
  std::string description;
  std::vector<uint64_t> seeds;
  std::string sweep_mode = "grid";
  std::vector<std::string> sweep_columns;  ///< swept paths, in file order
  /// The [metrics.NAME] sections' plugins in file order; compare and report default to the first
  /// one's primary key.
  std::vector<std::string> metric_plugins;
  double timeout = 0;                      ///< seconds per trial; 0 = none
  /// Every sweep point times every seed (seed varying fastest), identical trials once.
  std::vector<Trial> trials;
  size_t duplicates = 0;  ///< points that resolved to a trial already listed
  /// Where each section ("generator", "metrics.modes") and each key ("train.eval_samples") is
  /// written, for problems found after parsing; see position_of.
  std::map<std::string, SourcePos> positions;
  /// The place of `path` (a key, else its section, else the file's start).
  SourcePos position_of(const std::string& path) const;
};

/// Schemas of the built-in sections.
const std::vector<ParamSpec>& experiment_schema();
const std::vector<ParamSpec>& optimizer_schema();
/// What [optimizer.generator] and [optimizer.discriminator] accept (defaults: [optimizer]'s).
const std::vector<ParamSpec>& network_optimizer_schema();
const std::vector<ParamSpec>& train_schema();

/// Trials an experiment may have unless `gantry run --max-trials` says otherwise.
inline constexpr uint64_t default_max_trials = 100000;
/// Longest experiment name, in characters: it is a label in tables and on command lines.
inline constexpr size_t max_name_chars = 200;

struct LoadOptions {
  uint64_t max_trials = default_max_trials;  ///< more trials (points × seeds) is a config error
};

/// Parses and validates an experiment file against the registry's plugins. Every problem is
/// reported at once in one ConfigError, one "file:line:column: message" per line.
Experiment load_experiment(const std::filesystem::path& file, const Registry& registry, const LoadOptions& options = {});
/// Same, from text (`file` names it in messages).
Experiment parse_experiment(std::string_view text, const std::string& file, const Registry& registry,
                            const LoadOptions& options = {});

}  // namespace gantry
