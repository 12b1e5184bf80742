#include "run/study_resources.hpp"

#include <gantry/classifier.hpp>
#include <gantry/fashion_mnist.hpp>
#include <gantry/sha256.hpp>

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>
#include <set>

namespace gantry {
namespace {

bool needs_classifier(const PluginChoice& metric) {
  const auto& needs = metric.library->descriptor->needs;
  return std::find(needs.begin(), needs.end(), "reference_classifier") != needs.end();
}

// The folder a metric measures against: its `path` parameter when it has one and it is set.
std::filesystem::path data_dir_of(const PluginChoice& metric) {
  if (metric.params.has("path"))
    if (const auto* text = std::get_if<std::string>(&metric.params.get("path")); text != nullptr && !text->empty())
      return *text;
  return default_fashion_mnist_dir();
}

}  // namespace

std::filesystem::path study_network_dir(const std::vector<FeatureNetwork>& networks) {
  std::vector<std::string> lines;
  for (const auto& n : networks) lines.push_back(n.recipe + "=" + n.sha256 + "\n");
  std::sort(lines.begin(), lines.end());
  Sha256 h;
  for (const auto& line : lines) h.update(line);
  return ReferenceClassifier::cache_dir() / "studies" / h.hex().substr(0, 16);
}

void use_study_networks(const std::vector<FeatureNetwork>& networks) {
  if (networks.empty()) return;
  const auto study = study_network_dir(networks);
  for (const auto& network : networks) materialize(network, study);
  // Inherited by every worker this process starts; a trial then loads exactly these weights.
  ::setenv("GANTRY_FEATURE_NETWORK_DIR", study.c_str(), 1);
}

std::vector<FeatureNetwork> prepare_study_resources(const Experiment& exp, ResultStore& store, std::ostream& log) {
  std::set<std::filesystem::path> dirs;
  for (const Trial& t : exp.trials)
    for (const PluginChoice& m : t.config.metrics)
      if (needs_classifier(m)) dirs.insert(data_dir_of(m));
  if (dirs.empty()) return {};
  std::vector<FeatureNetwork> networks;
  for (const auto& data : dirs) {
    const std::string recipe = ReferenceClassifier::recipe_hash(data);
    std::optional<FeatureNetwork> network = find_feature_network(store.db(), recipe);
    if (network) {
      log << fmt::format("image metrics measure with the study's feature network {} (stored in the results database)\n",
                         network->sha256.substr(0, 16));
    } else {
      const auto mine = ReferenceClassifier::load_or_train(data, [&](std::string_view line) { log << line << "\n"; });
      network = keep_feature_network(store, read_feature_network(mine->file()));
      log << fmt::format("image metrics measure with feature network {}, now stored in the results database: every "
                         "run of this study uses it\n", network->sha256.substr(0, 16));
    }
    networks.push_back(std::move(*network));
  }
  use_study_networks(networks);
  return networks;
}

}  // namespace gantry
