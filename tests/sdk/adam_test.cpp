#include "support/grad_check.hpp"
#include "support/json.hpp"

#include <gantry/optimizer.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(Adam, MatchesTorchOptimAdam) {
  const auto ref = test::reference("adam.json");  // lr 1e-3, betas (0.5, 0.999), eps 1e-8
  const auto p0 = ref["p0"].numbers();
  Parameter p("p", Tensor({static_cast<int64_t>(p0.size())}));
  for (size_t i = 0; i < p0.size(); ++i) p.value[static_cast<int64_t>(i)] = static_cast<float>(p0[i]);
  Adam adam({&p}, {1e-3, 0.5, 0.999, 1e-8});
  for (size_t step = 0; step < ref["grads"].array.size(); ++step) {
    adam.zero_grad();
    const auto g = ref["grads"][step].numbers();
    Tensor grad({static_cast<int64_t>(g.size())});
    for (size_t i = 0; i < g.size(); ++i) grad[static_cast<int64_t>(i)] = static_cast<float>(g[i]);
    p.accumulate(grad);
    adam.step();
    EXPECT_LT(test::max_rel_error(test::as_doubles(p.value), ref["params_after"][step].numbers()), 1e-6)
        << "after step " << step + 1;
  }
}

TEST(Adam, TreatsAMissingGradientAsZero) {
  Parameter p("p", Tensor({2}, {1.0f, -1.0f}));
  p.accumulate(Tensor({2}, {5.0f, 5.0f}));
  Adam adam({&p}, {});
  adam.zero_grad();  // no backward pass follows: the stale 5s must not be used
  adam.step();
  EXPECT_EQ(p.value[0], 1.0f);
  EXPECT_EQ(p.value[1], -1.0f);
}

}  // namespace
}  // namespace gantry
