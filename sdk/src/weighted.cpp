#include "weighted.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

namespace gantry::detail {

void Staged::init(const dnnl::memory& plain, const dnnl::memory::desc& wanted, bool outgoing, const Staged* share) {
  active = plain.get_desc() != wanted;
  if (!active) return;
  const bool reuse = share != nullptr && share->active && share->inner.get_desc() == wanted;
  inner = reuse ? dnnl::memory(wanted, engine(), share->inner.get_data_handle()) : dnnl::memory(wanted, engine());
  reorder = outgoing ? dnnl::reorder(inner, plain) : dnnl::reorder(plain, inner);
}

dnnl::memory& Staged::in(dnnl::memory& plain) {
  if (!active) return plain;
  reorder.execute(stream(), {{DNNL_ARG_FROM, plain}, {DNNL_ARG_TO, inner}});
  return inner;
}

void Staged::out(dnnl::memory& plain) {
  if (active) reorder.execute(stream(), {{DNNL_ARG_FROM, inner}, {DNNL_ARG_TO, plain}});
}

void WeightedPlan::bind(const dnnl::memory::desc& src_md, const dnnl::memory::desc& weights_md,
                        const dnnl::memory::desc& bias_md, const dnnl::memory::desc& dst_md, const Layouts& l,
                        Parameter& weight, Parameter& b) {
  const dnnl::memory::dims dst_dims = dst_md.dims(), src_dims = src_md.dims();  // dims() returns a copy
  const std::vector<int64_t> dst_shape(dst_dims.begin(), dst_dims.end()), src_shape(src_dims.begin(), src_dims.end());
  y = Tensor(dst_shape);
  dx = Tensor(src_shape);
  dw_scratch = Tensor(weight.value.shape());
  db_scratch = Tensor(b.value.shape());
  src = wrap(src_md, nullptr);
  weights = wrap(weights_md, weight.value.data());
  bias = wrap(bias_md, b.value.data());
  dst = wrap(dst_md, y.data());
  diff_dst = wrap(dst_md, nullptr);
  diff_src = wrap(src_md, dx.data());
  diff_weights = wrap(weights_md, nullptr);
  diff_bias = wrap(bias_md, nullptr);
  fwd_src.init(src, l.fwd_src, false);
  fwd_weights.init(weights, l.fwd_weights, false);
  fwd_dst.init(dst, l.fwd_dst, true);
  // Backward passes reuse what the forward pass (or the other backward pass) already converted:
  // the weights and the input do not change between a forward and its backward.
  bwd_weights_as_fwd = l.bwd_weights == l.fwd_weights;
  if (!bwd_weights_as_fwd) bwd_data_weights.init(weights, l.bwd_weights, false);
  // Buffers that are never live together share memory: the forward's output is copied out
  // before any backward, and backward() computes the weight gradient (which reads the converted
  // input) before the input gradient overwrites it.
  bwd_diff_src.init(diff_src, l.bwd_diff_src, true, &fwd_src);
  bwd_diff_dst.init(diff_dst, l.bwd_diff_dst, false, &fwd_dst);
  bww_src_as_fwd = l.bww_src == l.fwd_src;
  if (!bww_src_as_fwd) bww_src.init(src, l.bww_src, false);
  bww_diff_dst_as_bwd = l.bww_diff_dst == l.bwd_diff_dst;
  if (!bww_diff_dst_as_bwd) bww_diff_dst.init(diff_dst, l.bww_diff_dst, false);
  bww_diff_weights.init(diff_weights, l.bww_diff_weights, true);
}

const Tensor& WeightedPlan::forward(const Tensor& input) {
  x = &input;
  src.set_data_handle(const_cast<float*>(input.data()));
  dnnl::memory& s = fwd_src.in(src);
  dnnl::memory& w = fwd_weights.in(weights);  // weights change after every optimizer step
  fwd.execute(stream(), {{DNNL_ARG_SRC, s},
                         {DNNL_ARG_WEIGHTS, w},
                         {DNNL_ARG_BIAS, bias},
                         {DNNL_ARG_DST, fwd_dst.active ? fwd_dst.inner : dst}});
  fwd_dst.out(dst);
  stream().wait();
  return y;
}

const Tensor& WeightedPlan::backward(const Tensor& dy, BackwardOptions options, Parameter& weight, Parameter& b) {
  GANTRY_ASSERT(x != nullptr && dy.size() == y.size());
  diff_dst.set_data_handle(const_cast<float*>(dy.data()));
  dnnl::memory& dd = bwd_diff_dst.in(diff_dst);
  if (options.weight_grad) {
    // The first gradient after zero_grad() is written in place; later ones are summed.
    float* dw = weight.write_buffer(dw_scratch).data();
    float* db = b.write_buffer(db_scratch).data();
    diff_weights.set_data_handle(dw);
    diff_bias.set_data_handle(db);
    dnnl::memory* s = &src;
    if (bww_src_as_fwd && fwd_src.active) {
      s = &fwd_src.inner;
    } else {
      src.set_data_handle(const_cast<float*>(x->data()));
      s = &bww_src.in(src);
    }
    dnnl::memory& ddw = bww_diff_dst_as_bwd ? dd : bww_diff_dst.in(diff_dst);
    bwd_weights.execute(stream(), {{DNNL_ARG_SRC, *s},
                                   {DNNL_ARG_DIFF_DST, ddw},
                                   {DNNL_ARG_DIFF_WEIGHTS, bww_diff_weights.active ? bww_diff_weights.inner : diff_weights},
                                   {DNNL_ARG_DIFF_BIAS, diff_bias}});
    bww_diff_weights.out(diff_weights);
    stream().wait();
    weight.commit(dw_scratch);
    b.commit(db_scratch);
  }
  if (!options.input_grad) return empty_tensor();
  dnnl::memory& w = bwd_weights_as_fwd ? (fwd_weights.active ? fwd_weights.inner : weights) : bwd_data_weights.in(weights);
  bwd_data.execute(stream(), {{DNNL_ARG_DIFF_DST, dd},
                              {DNNL_ARG_WEIGHTS, w},
                              {DNNL_ARG_DIFF_SRC, bwd_diff_src.active ? bwd_diff_src.inner : diff_src}});
  bwd_diff_src.out(diff_src);
  stream().wait();
  return dx;
}

}  // namespace gantry::detail

namespace gantry {

WeightedLayer::WeightedLayer(std::vector<int64_t> weight_shape, int64_t outputs, float init_bound, Rng& init_rng)
    : weight_("weight", Tensor(weight_shape)), bias_("bias", Tensor({outputs})) {
  init_rng.fill_uniform(weight_.value.values(), -init_bound, init_bound);
  init_rng.fill_uniform(bias_.value.values(), -init_bound, init_bound);
}

WeightedLayer::~WeightedLayer() = default;

const Tensor& WeightedLayer::forward(const Tensor& x, Mode /*mode*/) {
  auto it = plans_.find(x.shape());
  if (it == plans_.end()) it = plans_.emplace(x.shape(), build_plan(x.shape())).first;
  last_ = it->second.get();
  return last_->forward(x);
}

const Tensor& WeightedLayer::backward(const Tensor& dy, BackwardOptions options) {
  GANTRY_ASSERT(last_ != nullptr);
  return last_->backward(dy, options, weight_, bias_);
}

}  // namespace gantry
