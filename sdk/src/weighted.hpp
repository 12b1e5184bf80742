#pragma once
// Private: what Linear and Conv2d share — one plan per input shape holding a forward primitive
// with weights and bias, its backward-data and backward-weights primitives, their memory
// objects and the output buffers, and the execution of both passes.
#include "dnnl_util.hpp"

#include <gantry/layer.hpp>

namespace gantry::detail {

struct WeightedPlan {
  dnnl::primitive fwd, bwd_data, bwd_weights;
  dnnl::memory src, weights, bias, dst, diff_dst, diff_src, diff_weights, diff_bias;
  Tensor y, dx, dw_scratch, db_scratch;
  const Tensor* x = nullptr;

  /// Wraps the layer's buffers; call once the three primitives are set.
  void bind(const dnnl::memory::desc& src_md, const dnnl::memory::desc& weights_md,
            const dnnl::memory::desc& bias_md, const dnnl::memory::desc& dst_md, Parameter& weight, Parameter& b);
  const Tensor& forward(const Tensor& input);
  /// dL/dx (empty unless asked for); adds dL/dweights and dL/dbias into the parameters.
  const Tensor& backward(const Tensor& dy, BackwardOptions options, Parameter& weight, Parameter& b);
};

}  // namespace gantry::detail
