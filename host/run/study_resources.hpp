#pragma once
// What a study prepares once, before any trial, so that all its trials share it: today the
// reference classifier of the image metrics (PluginDescriptor::needs "reference_classifier").
#include "config/experiment.hpp"
#include "store/feature_networks.hpp"
#include "store/store.hpp"

#include <filesystem>
#include <ostream>
#include <vector>

namespace gantry {

/// For each Fashion-MNIST folder the experiment's metrics measure against: takes the study's
/// feature network from the database, or — the first time — the machine's (trained if it has
/// none) and stores it there. Writes them into the study's folder and points the trials at it
/// (GANTRY_FEATURE_NETWORK_DIR, inherited by every worker). Returns them (none when no metric
/// needs one), for the ranks of a distributed run.
std::vector<FeatureNetwork> prepare_study_resources(const Experiment& exp, ResultStore& store, std::ostream& log);

/// Writes `networks` into their study folder and points the trials this process starts at it;
/// nothing when `networks` is empty. What a worker rank does with rank 0's networks.
void use_study_networks(const std::vector<FeatureNetwork>& networks);

/// The folder holding exactly `networks`, under the cache folder: named by their recipes and
/// hashes, so studies measuring with the same networks share one folder and the cache grows with
/// the distinct networks, not with the number of results databases.
std::filesystem::path study_network_dir(const std::vector<FeatureNetwork>& networks);

}  // namespace gantry
