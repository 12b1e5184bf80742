#include "weighted.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <cmath>
#include <fmt/format.h>

namespace gantry {

using namespace detail;

Linear::Linear(int64_t in_features, int64_t out_features, Rng& init_rng)
    : WeightedLayer({out_features, in_features}, out_features,
                    1.0f / std::sqrt(static_cast<float>(in_features)), init_rng),
      in_(in_features),
      out_(out_features) {
  GANTRY_ASSERT(in_ > 0 && out_ > 0);
}

std::string Linear::describe() const { return fmt::format("Linear({}, {}{})", in_, out_, describe_suffix()); }

std::unique_ptr<WeightedPlan> Linear::build_plan(const std::vector<int64_t>& shape) {
  GANTRY_ASSERT(shape.size() >= 2 && element_count(shape) / shape[0] == in_);
  const int64_t batch = shape[0];
  auto p = std::make_unique<WeightedPlan>();
  const auto src_md = plain_md({batch, in_});
  const auto w_md = plain_md({out_, in_});
  const auto b_md = plain_md({out_});
  const auto dst_md = plain_md({batch, out_});
  // Plain layouts at every boundary: oneDNN's GEMM-based inner product takes them directly, so
  // no reorder ever runs, and the weights stay in PyTorch's [out, in] order.
  auto fwd_pd = dnnl::inner_product_forward::primitive_desc(
      {dnnl::prop_kind::forward_training, src_md, w_md, b_md, dst_md}, engine());
  auto bwd_data_pd = dnnl::inner_product_backward_data::primitive_desc({src_md, w_md, dst_md}, engine(), fwd_pd);
  auto bwd_w_pd =
      dnnl::inner_product_backward_weights::primitive_desc({src_md, w_md, b_md, dst_md}, engine(), fwd_pd);
  GANTRY_ASSERT(fwd_pd.weights_desc() == w_md && fwd_pd.dst_desc() == dst_md);
  GANTRY_ASSERT(bwd_w_pd.diff_weights_desc() == w_md);
  p->fwd = dnnl::inner_product_forward(fwd_pd);
  p->bwd_data = dnnl::inner_product_backward_data(bwd_data_pd);
  p->bwd_weights = dnnl::inner_product_backward_weights(bwd_w_pd);
  p->bind(src_md, w_md, b_md, dst_md, Layouts::of(fwd_pd, bwd_data_pd, bwd_w_pd), primitive_weight(), bias_);
  return p;
}

}  // namespace gantry
