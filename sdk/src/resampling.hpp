#pragma once
// Private: the plan of a ResamplingLayer (Upsample2d, AvgPool2d) for one input shape: which block
// map it is, the sizes, and the output buffers.
#include <gantry/layer.hpp>

namespace gantry::detail {

/// Images [N, C, h, w] ("small") and [N, C, k·h, k·w] ("large"): average pooling maps large to
/// small, upsampling small to large; each one's adjoint is the other map, scaled.
struct ResamplingPlan {
  enum class Map { average_pool, nearest_upsample };
  Map map;
  int64_t planes, small_h, small_w, k;
  Tensor y, dx;
  // Dual mode, allocated by the first forward_dual(): the tangent's output and both adjoints.
  Tensor y_dot, x_bar, x_dot_bar;

  ResamplingPlan(Map map, const std::vector<int64_t>& input_shape, const std::vector<int64_t>& output_shape, int64_t k);
  /// out = A·in, the forward map.
  void apply(const Tensor& in, Tensor& out) const;
  /// out = Aᵀ·in, the backward map.
  void adjoint(const Tensor& in, Tensor& out) const;
};

}  // namespace gantry::detail
