#include <gantry/area_resize.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(AreaResize, AveragesTheCoveredAreaWithFractionalWeights) {
  // 3 → 2: output 0 covers [0, 1.5), output 1 covers [1.5, 3).
  EXPECT_EQ(area_resize({0, 30, 60}, 3, 1, 1, 2, 1), (std::vector<double>{10, 50}));
  // 2 × 2 → 1 × 1 per channel.
  EXPECT_EQ(area_resize({0, 100, 10, 110, 20, 120, 30, 130}, 2, 2, 2, 1, 1), (std::vector<double>{15, 115}));
  // Up-scaling repeats pixels.
  EXPECT_EQ(area_resize({5, 7}, 2, 1, 1, 4, 1), (std::vector<double>{5, 5, 7, 7}));
  // The same size is a copy.
  EXPECT_EQ(area_resize({1, 2, 3, 4}, 2, 2, 1, 2, 2), (std::vector<double>{1, 2, 3, 4}));
}

}  // namespace
}  // namespace gantry
