#include "store/feature_networks.hpp"

#include <gantry/classifier.hpp>
#include <gantry/sha256.hpp>

#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace gantry {

std::optional<FeatureNetwork> find_feature_network(Database& db, const std::string& recipe) {
  auto st = db.prepare("SELECT sha256, test_accuracy, file FROM feature_networks WHERE recipe = ?1");
  st.bind(1, recipe);
  if (!st.step()) return std::nullopt;
  return FeatureNetwork{recipe, st.column_text(0), st.column_double(1), st.column_blob(2)};
}

FeatureNetwork keep_feature_network(ResultStore& store, const FeatureNetwork& network) {
  auto st = store.db().prepare(
      "INSERT INTO feature_networks(recipe, sha256, test_accuracy, file, added_at) "
      "VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) ON CONFLICT(recipe) DO NOTHING");
  st.bind(1, network.recipe).bind(2, network.sha256).bind(3, network.test_accuracy).bind_blob(4, network.file);
  st.run();
  return *find_feature_network(store.db(), network.recipe);
}

FeatureNetwork read_feature_network(const std::filesystem::path& file) {
  const auto classifier = ReferenceClassifier::load(file);
  std::ifstream in(file, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return {classifier->recipe(), classifier->weights_sha256(), classifier->test_accuracy(), bytes.str()};
}

std::filesystem::path materialize(const FeatureNetwork& network, const std::filesystem::path& dir) {
  const auto path = dir / ReferenceClassifier::file_name(network.recipe);
  auto holds_it = [&] {
    try {
      return ReferenceClassifier::load(path)->weights_sha256() == network.sha256;
    } catch (const Error&) {
      return false;  // missing, or not a whole classifier: write it again
    }
  };
  if (holds_it()) return path;
  std::filesystem::create_directories(dir);
  const auto tmp = path.string() + fmt::format(".tmp{}", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(network.file.data(), static_cast<std::streamsize>(network.file.size()));
    if (!out) throw Error(fmt::format("cannot write {}", tmp));
  }
  std::filesystem::rename(tmp, path);  // a trial starting meanwhile sees the old file or the new, never half
  if (!holds_it())
    throw Error(fmt::format("the feature network {} stored in the results database is damaged", network.sha256.substr(0, 16)));
  return path;
}

}  // namespace gantry
