// use_study_networks: what a worker rank does with the feature networks rank 0 sends (the case
// with a real classifier is in study_resources_test, which has one).
#include "run/study_resources.hpp"

#include "support/experiments.hpp"

#include <gantry/error.hpp>

#include <cstdlib>
#include <gtest/gtest.h>

namespace gantry {
namespace {

// Bytes that are not the classifier they claim to be are refused, not handed to the trials.
TEST(StudyNetworks, ANetworkThatIsNotAClassifierIsRefused) {
  test::TempDir dir;
  const char* cache = std::getenv("GANTRY_CACHE_DIR");
  const std::string saved = cache ? cache : "";
  ::setenv("GANTRY_CACHE_DIR", dir.path.c_str(), 1);
  ::unsetenv("GANTRY_FEATURE_NETWORK_DIR");
  try {
    use_study_networks({{"0123456789abcdef", "feedfacefeedface", 0.9, std::string("not\0a classifier", 16)}});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "the feature network feedfacefeedface stored in the results database is damaged");
  }
  EXPECT_EQ(std::getenv("GANTRY_FEATURE_NETWORK_DIR"), nullptr);
  if (saved.empty()) ::unsetenv("GANTRY_CACHE_DIR");
  else ::setenv("GANTRY_CACHE_DIR", saved.c_str(), 1);
}

TEST(StudyNetworks, NoNetworksLeaveTheTrialsAlone) {
  ::unsetenv("GANTRY_FEATURE_NETWORK_DIR");
  use_study_networks({});
  EXPECT_EQ(std::getenv("GANTRY_FEATURE_NETWORK_DIR"), nullptr);
}

}  // namespace
}  // namespace gantry
