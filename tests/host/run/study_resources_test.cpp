// One feature network per study: the first run stores the machine's in the results database,
// and every later run — on a machine whose cache holds other weights too — measures with it.
// Needs the cached classifier (ctest fixture `classifier.train`).
#include "run/study_resources.hpp"
#include "store/feature_networks.hpp"

#include "support/experiments.hpp"
#include "support/plugins.hpp"

#include <gantry/classifier.hpp>
#include <gantry/fashion_mnist.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <gtest/gtest.h>

namespace gantry {
namespace {

namespace fs = std::filesystem;

const std::string image_metric = R"([metrics.image_quality]
samples = 200
reference_samples = 300
)";

struct StudyResources : ::testing::Test {
  fs::path dir = fs::temp_directory_path() / fmt::format("gantry-study-{}", ::getpid());
  fs::path db = dir / "results.db";
  void SetUp() override {
    fs::remove_all(dir);
    fs::create_directories(dir);
    ::unsetenv("GANTRY_FEATURE_NETWORK_DIR");
  }
  void TearDown() override {
    ::unsetenv("GANTRY_FEATURE_NETWORK_DIR");
    fs::remove_all(dir);
  }
  std::string prepare(const std::string& metrics, const fs::path& db_path) {
    const Experiment exp = parse_experiment(test::tiny_dcgan_experiment("", "", metrics), "study.toml", test::builtin_registry());
    ResultStore store(db_path);
    std::ostringstream log;
    networks = prepare_study_resources(exp, store, log);
    return log.str();
  }
  std::string prepare(const std::string& metrics) { return prepare(metrics, db); }
  std::vector<FeatureNetwork> networks;  // what the last prepare() returned
};

std::string cached_sha() {
  return ReferenceClassifier::load(ReferenceClassifier::cache_file(default_fashion_mnist_dir()))->weights_sha256();
}

TEST_F(StudyResources, TheFirstRunStoresTheMachinesNetworkAndPointsTrialsAtIt) {
  const std::string log = prepare(image_metric);
  EXPECT_EQ(log, fmt::format("image metrics measure with feature network {}, now stored in the results database: "
                             "every run of this study uses it\n", cached_sha().substr(0, 16)));
  Database read = open_results(db);
  const auto stored = find_feature_network(read, ReferenceClassifier::recipe_hash(default_fashion_mnist_dir()));
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->sha256, cached_sha());
  ASSERT_NE(std::getenv("GANTRY_FEATURE_NETWORK_DIR"), nullptr);
  EXPECT_EQ(fs::path(std::getenv("GANTRY_FEATURE_NETWORK_DIR")), study_network_dir({*stored}));
  EXPECT_EQ(ReferenceClassifier::load_or_train(default_fashion_mnist_dir())->file().parent_path(),
            study_network_dir({*stored}));
}

// A study whose network differs from this machine's cache (another machine stored it, or this
// one's cache was trained by another gantry): the trials use the study's.
TEST_F(StudyResources, ALaterRunUsesTheStudysNetworkNotTheMachines) {
  const auto cache = ReferenceClassifier::cache_file(default_fashion_mnist_dir());
  FeatureNetwork other = read_feature_network(cache);
  other.file.back() = static_cast<char>(other.file.back() ^ 0x40);  // one weight of the last layer differs
  const auto altered = dir / "altered.bin";
  std::ofstream(altered, std::ios::binary) << other.file;
  other = read_feature_network(altered);
  ASSERT_NE(other.sha256, cached_sha());
  {
    ResultStore store(db);
    keep_feature_network(store, other);
  }
  EXPECT_EQ(prepare(image_metric), fmt::format("image metrics measure with the study's feature network {} (stored in "
                                               "the results database)\n", other.sha256.substr(0, 16)));
  EXPECT_EQ(ReferenceClassifier::load_or_train(default_fashion_mnist_dir())->weights_sha256(), other.sha256);
}

TEST_F(StudyResources, AStudyKeepsItsFirstNetwork) {
  ResultStore store(db);
  FeatureNetwork first = read_feature_network(ReferenceClassifier::cache_file(default_fashion_mnist_dir()));
  FeatureNetwork second = first;
  second.sha256 = std::string(64, 'f');
  EXPECT_EQ(keep_feature_network(store, first).sha256, first.sha256);
  EXPECT_EQ(keep_feature_network(store, second).sha256, first.sha256);
}

// The folder is named by the networks it holds: a thousand test databases measuring with the
// machine's network leave one folder in the cache, not a thousand.
TEST_F(StudyResources, StudiesWithTheSameNetworkShareOneFolder) {
  prepare(image_metric);
  const std::string first = std::getenv("GANTRY_FEATURE_NETWORK_DIR");
  prepare(image_metric, dir / "another.db");
  EXPECT_EQ(std::string(std::getenv("GANTRY_FEATURE_NETWORK_DIR")), first);
}

// mpirun on several machines: rank 0 sends the study's networks with its start message and a rank
// whose machine has no classifier (an empty cache) measures with them, without training its own.
TEST_F(StudyResources, AWorkerRankOnAnotherMachineMeasuresWithRankZerosNetwork) {
  prepare(image_metric);
  ASSERT_EQ(networks.size(), 1u);
  const char* cache = std::getenv("GANTRY_CACHE_DIR");
  const std::string saved = cache ? cache : "";
  ::setenv("GANTRY_CACHE_DIR", (dir / "other-machine").c_str(), 1);
  ::unsetenv("GANTRY_FEATURE_NETWORK_DIR");
  use_study_networks(networks);
  const auto loaded = ReferenceClassifier::load_or_train(default_fashion_mnist_dir(), [](std::string_view line) {
    ADD_FAILURE() << "trained its own: " << line;
  });
  EXPECT_EQ(loaded->weights_sha256(), networks[0].sha256);
  EXPECT_EQ(loaded->file().parent_path(), dir / "other-machine" / "studies" / study_network_dir(networks).filename());
  if (saved.empty()) ::unsetenv("GANTRY_CACHE_DIR");
  else ::setenv("GANTRY_CACHE_DIR", saved.c_str(), 1);
}

TEST_F(StudyResources, AStudyWithoutImageMetricsPreparesNothing) {
  EXPECT_EQ(prepare(""), "");
  EXPECT_EQ(std::getenv("GANTRY_FEATURE_NETWORK_DIR"), nullptr);
}

}  // namespace
}  // namespace gantry
