#pragma once
// A study's feature networks: the reference classifier its image metrics measure with, kept in
// the results database so that every run of the study — later ones, other workers, other
// machines — uses the same weights instead of whatever its machine trained.
#include "store/store.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace gantry {

struct FeatureNetwork {
  std::string recipe, sha256;
  double test_accuracy = 0;
  std::string file;  ///< the classifier file's bytes
};

/// The study's network for `recipe`, if it has one.
std::optional<FeatureNetwork> find_feature_network(Database& db, const std::string& recipe);

/// Stores `network` unless the study has one for its recipe already; returns the one the study
/// uses (the first stored, also when another gantry process stored it a moment earlier).
FeatureNetwork keep_feature_network(ResultStore& store, const FeatureNetwork& network);

/// The network read from a classifier file (ReferenceClassifier::load checks it first).
FeatureNetwork read_feature_network(const std::filesystem::path& file);

/// Writes the network's file into `dir` under the name the reference classifier looks for
/// (atomically; an identical file is left alone). Returns its path.
std::filesystem::path materialize(const FeatureNetwork& network, const std::filesystem::path& dir);

}  // namespace gantry
