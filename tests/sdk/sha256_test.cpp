#include <gantry/sha256.hpp>
#include "util/text.hpp"

#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  Sha256 s;
  s.update("ab");
  s.update("c");
  EXPECT_EQ(s.hex(), sha256_hex("abc"));
}

TEST(ClosestNames, SuggestsNearMisses) {
  EXPECT_EQ(edit_distance("wgan", "wasserstein"), 9u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  const std::vector<std::string> names{"hinge", "minimax", "nonsaturating", "wasserstein"};
  EXPECT_EQ(closest_names("wasserstien", names), std::vector<std::string>{"wasserstein"});
  EXPECT_EQ(closest_names("minmax", names), std::vector<std::string>{"minimax"});
  EXPECT_TRUE(closest_names("xyz", names).empty());
}

}  // namespace
}  // namespace gantry
