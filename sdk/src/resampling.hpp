#pragma once
// Private: the plan of a ResamplingLayer (Upsample2d, AvgPool2d) for one input shape — a forward
// primitive x → y and a backward one dy → dx, both on plain layouts, with the output buffers.
#include "dnnl_util.hpp"

#include <gantry/layer.hpp>

namespace gantry::detail {

struct ResamplingPlan {
  dnnl::primitive fwd, bwd;
  dnnl::memory src, dst, diff_dst, diff_src;
  Tensor y, dx;
  // Dual mode, allocated by the first forward_dual(): the tangent's output and both adjoints.
  Tensor y_dot, x_bar, x_dot_bar;

  /// Wraps the memory objects once the two primitives are set.
  void bind(const dnnl::memory::desc& src_md, const dnnl::memory::desc& dst_md);
  /// out = A·in, the forward map.
  void apply(const Tensor& in, Tensor& out);
  /// out = Aᵀ·in, the backward map.
  void adjoint(const Tensor& in, Tensor& out);
};

}  // namespace gantry::detail
