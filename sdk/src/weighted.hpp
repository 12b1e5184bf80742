#pragma once
// Private: what Linear, Conv2d and ConvTranspose2d share — one plan per input shape holding a
// forward primitive with weights and bias, its backward-data and backward-weights primitives,
// their memory objects and the output buffers, and the execution of both passes.
//
// Layers exchange plain (row-major) tensors. A primitive may prefer another layout for an
// argument (convolutions created with format `any` pick blocked ones such as nChw16c); the plan
// then keeps a buffer in that layout and a reorder into or out of it, both made once per shape,
// so only the boundary copies run in the loop.
#include "dnnl_util.hpp"

#include <gantry/layer.hpp>

#include <memory>

namespace gantry::detail {

/// The layouts each primitive asked for, argument by argument.
struct Layouts {
  dnnl::memory::desc fwd_src, fwd_weights, fwd_dst;
  dnnl::memory::desc bwd_diff_src, bwd_weights, bwd_diff_dst;
  dnnl::memory::desc bww_src, bww_diff_weights, bww_diff_dst;

  template <class Fwd, class BwdData, class BwdWeights>
  static Layouts of(const Fwd& f, const BwdData& d, const BwdWeights& w) {
    return {f.src_desc(),      f.weights_desc(),      f.dst_desc(),     d.diff_src_desc(), d.weights_desc(),
            d.diff_dst_desc(), w.src_desc(),          w.diff_weights_desc(), w.diff_dst_desc()};
  }
};

/// One argument in a primitive's own layout: a buffer and the reorder to or from the plain one.
struct Staged {
  bool active = false;
  dnnl::memory inner;
  dnnl::reorder reorder;
  /// `plain` → `wanted` (or the reverse when `outgoing`); inactive when the two are equal. With
  /// `share`, the buffer is that one's (same layout, never live at the same time).
  void init(const dnnl::memory& plain, const dnnl::memory::desc& wanted, bool outgoing, const Staged* share = nullptr);
  /// The memory the primitive should use: `plain` itself, or `inner` after reordering into it.
  dnnl::memory& in(dnnl::memory& plain);
  /// Copies `inner` out to `plain` (outgoing arguments), when active.
  void out(dnnl::memory& plain);
};

struct WeightedPlan {
  dnnl::primitive fwd, bwd_data, bwd_weights;
  dnnl::memory src, weights, bias, dst, diff_dst, diff_src, diff_weights, diff_bias;  // plain
  Staged fwd_src, fwd_weights, fwd_dst, bwd_diff_src, bwd_data_weights, bwd_diff_dst, bww_src, bww_diff_weights,
      bww_diff_dst;
  bool bwd_weights_as_fwd = false, bww_src_as_fwd = false, bww_diff_dst_as_bwd = false;
  Tensor y, dx, dw_scratch, db_scratch;
  const Tensor* x = nullptr;
  // Dual mode, allocated by the first forward_dual(): the tangent's output and input adjoint, a
  // zero bias (a tangent has none: ẏ = W·ẋ) and where the tangent stream's Σẏ̄ is dropped.
  Tensor y_dot, dx_dot, zero_bias, db_discard;
  dnnl::memory zero_bias_mem;
  const Tensor* x_dot = nullptr;

  /// Wraps the layer's buffers and prepares the reorders `layouts` need; call once the three
  /// primitives are set. The plain descriptors are what the layer exchanges with its neighbours.
  void bind(const dnnl::memory::desc& src_md, const dnnl::memory::desc& weights_md,
            const dnnl::memory::desc& bias_md, const dnnl::memory::desc& dst_md, const Layouts& layouts,
            Parameter& weight, Parameter& b);
  const Tensor& forward(const Tensor& input);
  /// dL/dx (empty unless asked for); adds dL/dweights and dL/dbias into the parameters.
  const Tensor& backward(const Tensor& dy, BackwardOptions options, Parameter& weight, Parameter& b);
  /// y = W·x + b and ẏ = W·ẋ, the same forward primitive run twice (the second with a zero bias).
  DualTensors forward_dual(const Tensor& input, const Tensor& input_dot);
  /// x̄ = Wᵀȳ, ẋ̄ = Wᵀẏ̄, W̄ += ȳ·xᵀ + ẏ̄·ẋᵀ, b̄ += Σȳ: the usual backward primitives on each stream.
  DualTensors backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options, Parameter& weight,
                            Parameter& b);

 private:
  void run_forward(const Tensor& input, dnnl::memory& w, dnnl::memory& b, Tensor& out);
  /// The input in the backward-weights primitive's layout; `converted` when the last forward's
  /// conversion of this very input still sits in fwd_src's buffer.
  dnnl::memory& bww_input(const Tensor& input, bool converted);
  /// One adjoint stream dy of the output of `input`: adds dy·inputᵀ into `weight` (when given) and
  /// Σdy into `b` (when given, else discarded); writes Wᵀ·dy into `out` (when given).
  void backward_stream(const Tensor& input, bool converted, const Tensor& dy, Parameter* weight, Parameter* b,
                       Tensor* out);
};

/// The plan of a (transposed) convolution: `Fwd`, `BwdData` and `BwdWeights` are oneDNN's
/// convolution_* or deconvolution_* primitives, whose descriptors take the same arguments. The
/// primitives choose their own layouts (format `any`) when `blocked`, else use the plain ones.
template <class Fwd, class BwdData, class BwdWeights>
std::unique_ptr<WeightedPlan> make_conv_plan(dnnl::algorithm algorithm, const dnnl::memory::desc& src_md,
                                             const dnnl::memory::desc& w_md, const dnnl::memory::desc& b_md,
                                             const dnnl::memory::desc& dst_md, int64_t stride, int64_t padding,
                                             bool blocked, Parameter& weight, Parameter& bias) {
  const auto src = blocked ? any_md(src_md) : src_md, w = blocked ? any_md(w_md) : w_md,
             dst = blocked ? any_md(dst_md) : dst_md;
  const dnnl::memory::dims strides{stride, stride}, pad{padding, padding};
  auto fwd_pd = typename Fwd::primitive_desc(
      {dnnl::prop_kind::forward_training, algorithm, src, w, b_md, dst, strides, pad, pad}, engine());
  auto bwd_data_pd = typename BwdData::primitive_desc({algorithm, src, w, dst, strides, pad, pad}, engine(), fwd_pd);
  auto bwd_w_pd =
      typename BwdWeights::primitive_desc({algorithm, src, w, b_md, dst, strides, pad, pad}, engine(), fwd_pd);
  auto p = std::make_unique<WeightedPlan>();
  p->fwd = Fwd(fwd_pd);
  p->bwd_data = BwdData(bwd_data_pd);
  p->bwd_weights = BwdWeights(bwd_w_pd);
  p->bind(src_md, w_md, b_md, dst_md, Layouts::of(fwd_pd, bwd_data_pd, bwd_w_pd), weight, bias);
  return p;
}

}  // namespace gantry::detail
