// EpochOrder: every item once per epoch, reshuffled between epochs, and a saved state that is
// restored only when it is a position in a permutation of the same items.
#include <gantry/data.hpp>
#include <gantry/error.hpp>

#include <algorithm>
#include <cstring>
#include <gtest/gtest.h>

namespace gantry {
namespace {

std::vector<int64_t> draw(EpochOrder& order, Rng& rng, int n) {
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(order.next(rng));
  return out;
}

TEST(EpochOrder, EachEpochIsAPermutationAndTheNextEpochIsShuffledAgain) {
  EpochOrder order({3, 5, 7, 9, 11, 13, 15, 17});
  Rng rng(2);
  auto first = draw(order, rng, 8), second = draw(order, rng, 8);
  EXPECT_NE(first, second);
  std::sort(first.begin(), first.end());
  std::sort(second.begin(), second.end());
  const std::vector<int64_t> items{3, 5, 7, 9, 11, 13, 15, 17};
  EXPECT_EQ(first, items);
  EXPECT_EQ(second, items);
}

TEST(EpochOrder, ARestoredStateContinuesWithTheSameItems) {
  EpochOrder a({0, 1, 2, 3, 4}), b({0, 1, 2, 3, 4});
  Rng rng(9);
  draw(a, rng, 3);
  b.set_state(a.state(), "src");
  Rng copy = rng;
  EXPECT_EQ(draw(a, rng, 7), draw(b, copy, 7));  // the epoch's rest, then a new permutation
}

std::string expect_refused(EpochOrder& order, const std::string& state) {
  try {
    order.set_state(state, "src");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(EpochOrder, AStateOfOtherItemsIsRefused) {
  EpochOrder a({0, 1, 2}), other({0, 1, 5}), longer({0, 1, 2, 3});
  Rng rng(1);
  draw(other, rng, 1);
  EXPECT_EQ(expect_refused(a, other.state()), "src: the saved epoch order is not a permutation of this source's samples");
  EXPECT_EQ(expect_refused(a, longer.state()), "src: a saved state of 40 bytes does not fit 3 samples");
  std::string past = a.state();
  const uint64_t beyond = 4;
  std::memcpy(past.data(), &beyond, sizeof beyond);
  EXPECT_EQ(expect_refused(a, past), "src: the saved position is past the end of the epoch");
  EpochOrder twice({0, 0, 2});
  EXPECT_EQ(expect_refused(a, twice.state()), "src: the saved epoch order is not a permutation of this source's samples");
}

}  // namespace
}  // namespace gantry
