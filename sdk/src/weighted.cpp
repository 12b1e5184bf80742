#include "weighted.hpp"

#include "spectral_norm.hpp"

#include <gantry/conditional.hpp>
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

void WeightedPlan::run_forward(const Tensor& input, dnnl::memory& w, dnnl::memory& b, Tensor& out) {
  src.set_data_handle(const_cast<float*>(input.data()));
  dst.set_data_handle(out.data());
  dnnl::memory& s = fwd_src.in(src);
  fwd.execute(stream(), {{DNNL_ARG_SRC, s},
                         {DNNL_ARG_WEIGHTS, w},
                         {DNNL_ARG_BIAS, b},
                         {DNNL_ARG_DST, fwd_dst.active ? fwd_dst.inner : dst}});
  fwd_dst.out(dst);
  stream().wait();
}

const Tensor& WeightedPlan::forward(const Tensor& input) {
  x = &input;
  run_forward(input, fwd_weights.in(weights), bias, y);  // weights change after every optimizer step
  return y;
}

dnnl::memory& WeightedPlan::bww_input(const Tensor& input, bool converted) {
  src.set_data_handle(const_cast<float*>(input.data()));
  if (bww_src_as_fwd && fwd_src.active) {
    if (!converted) fwd_src.in(src);
    return fwd_src.inner;
  }
  return bww_src.in(src);
}

void WeightedPlan::backward_stream(const Tensor& input, bool converted, const Tensor& dy, Parameter* weight,
                                   Parameter* b, Tensor* out) {
  GANTRY_ASSERT(dy.size() == y.size());
  diff_dst.set_data_handle(const_cast<float*>(dy.data()));
  dnnl::memory& dd = bwd_diff_dst.in(diff_dst);
  if (weight != nullptr) {
    // The first gradient after zero_grad() is written in place; later ones are summed.
    diff_weights.set_data_handle(weight->write_buffer(dw_scratch).data());
    diff_bias.set_data_handle(b != nullptr ? b->write_buffer(db_scratch).data() : db_discard.data());
    dnnl::memory& s = bww_input(input, converted);
    dnnl::memory& ddw = bww_diff_dst_as_bwd ? dd : bww_diff_dst.in(diff_dst);
    bwd_weights.execute(stream(), {{DNNL_ARG_SRC, s},
                                   {DNNL_ARG_DIFF_DST, ddw},
                                   {DNNL_ARG_DIFF_WEIGHTS, bww_diff_weights.active ? bww_diff_weights.inner : diff_weights},
                                   {DNNL_ARG_DIFF_BIAS, diff_bias}});
    bww_diff_weights.out(diff_weights);
    stream().wait();
    weight->commit(dw_scratch);
    if (b != nullptr) b->commit(db_scratch);
  }
  if (out == nullptr) return;
  // Runs after the weight gradient: its output buffer may be the converted input's (see bind).
  dnnl::memory& w = bwd_weights_as_fwd ? (fwd_weights.active ? fwd_weights.inner : weights) : bwd_data_weights.in(weights);
  diff_src.set_data_handle(out->data());
  bwd_data.execute(stream(), {{DNNL_ARG_DIFF_DST, dd},
                              {DNNL_ARG_WEIGHTS, w},
                              {DNNL_ARG_DIFF_SRC, bwd_diff_src.active ? bwd_diff_src.inner : diff_src}});
  bwd_diff_src.out(diff_src);
  stream().wait();
}

const Tensor& WeightedPlan::backward(const Tensor& dy, BackwardOptions options, Parameter& weight, Parameter& b) {
  GANTRY_ASSERT(x != nullptr);
  backward_stream(*x, true, dy, options.weight_grad ? &weight : nullptr, &b, options.input_grad ? &dx : nullptr);
  return options.input_grad ? dx : empty_tensor();
}

DualTensors WeightedPlan::forward_dual(const Tensor& input, const Tensor& input_dot) {
  GANTRY_ASSERT(input_dot.size() == input.size());
  if (y_dot.size() != y.size()) {
    y_dot = Tensor(y.shape());
    dx_dot = Tensor(dx.shape());
    zero_bias = Tensor({static_cast<int64_t>(bias.get_desc().get_size() / sizeof(float))});
    db_discard = Tensor(zero_bias.shape());
    zero_bias_mem = wrap(bias.get_desc(), zero_bias.data());
  }
  x = &input;
  x_dot = &input_dot;
  dnnl::memory& w = fwd_weights.in(weights);
  run_forward(input, w, bias, y);
  run_forward(input_dot, w, zero_bias_mem, y_dot);
  return {&y, &y_dot};
}

DualTensors WeightedPlan::backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options,
                                        Parameter& weight, Parameter& b) {
  GANTRY_ASSERT(x != nullptr && x_dot != nullptr);
  // fwd_src's buffer last held the tangent, so each stream converts its own input again. The bias
  // only moves y: its adjoint is Σȳ alone.
  const bool primal = y_bar.size() > 0, tangent = y_dot_bar.size() > 0;
  Parameter* w = options.weight_grad ? &weight : nullptr;
  if (primal) backward_stream(*x, false, y_bar, w, &b, options.input_grad ? &dx : nullptr);
  if (tangent) backward_stream(*x_dot, false, y_dot_bar, w, nullptr, options.input_grad ? &dx_dot : nullptr);
  const Tensor& none = empty_tensor();
  return {options.input_grad && primal ? &dx : &none, options.input_grad && tangent ? &dx_dot : &none};
}

}  // namespace gantry::detail

namespace gantry {

using detail::SpectralNorm;
using detail::WeightedPlan;

WeightedLayer::WeightedLayer(std::vector<int64_t> weight_shape, int64_t outputs, float init_bound, Rng& init_rng)
    : weight_("weight", Tensor(weight_shape)), bias_("bias", Tensor({outputs})) {
  init_rng.fill_uniform(weight_.value.values(), -init_bound, init_bound);
  init_rng.fill_uniform(bias_.value.values(), -init_bound, init_bound);
}

WeightedLayer::~WeightedLayer() = default;

void WeightedLayer::enable_spectral_norm(Rng& init_rng) {
  if (sn_) return;
  sn_ = std::make_unique<SpectralNorm>(weight_.value.shape(), init_rng);
  // Plans bind the weight their primitives read; from now on that is W/σ.
  plans_.clear();
  last_ = nullptr;
}

std::vector<Tensor*> WeightedLayer::buffers() {
  if (!sn_) return {};
  return {&sn_->u, &sn_->v};
}

double WeightedLayer::spectral_sigma() const {
  GANTRY_ASSERT(sn_ != nullptr);
  return sn_->sigma();
}

Parameter& WeightedLayer::primitive_weight() { return sn_ ? sn_->weight() : weight_; }

WeightedPlan& WeightedLayer::plan_for(const std::vector<int64_t>& shape) {
  auto it = plans_.find(shape);
  if (it == plans_.end()) it = plans_.emplace(shape, build_plan(shape)).first;
  last_ = it->second.get();
  return *last_;
}

Parameter& WeightedLayer::start_backward(bool weight_grad) {
  GANTRY_ASSERT(last_ != nullptr);
  if (!sn_) return weight_;
  if (weight_grad) sn_->weight().zero_grad();
  return sn_->weight();
}

void WeightedLayer::finish_backward(bool weight_grad) {
  if (sn_ && weight_grad) sn_->add_gradient(weight_);
}

const Tensor& WeightedLayer::forward(const Tensor& x, Mode mode) {
  WeightedPlan& plan = plan_for(x.shape());
  if (sn_) sn_->normalise(weight_.value, mode == Mode::train);
  return plan.forward(x);
}

const Tensor& WeightedLayer::backward(const Tensor& dy, BackwardOptions options) {
  Parameter& w = start_backward(options.weight_grad);
  const Tensor& dx = last_->backward(dy, options, w, bias_);
  finish_backward(options.weight_grad);
  return dx;
}

// No power iteration here: in a gradient penalty the dual pass differentiates the forward pass
// that ∇x D came from (Critic::input_gradient), which took the step's iteration, just as PyTorch's
// double backprop reuses that forward's graph.
DualTensors WeightedLayer::forward_dual(const Tensor& x, const Tensor& x_dot, Mode /*mode*/) {
  WeightedPlan& plan = plan_for(x.shape());
  if (sn_) sn_->normalise(weight_.value, false);
  return plan.forward_dual(x, x_dot);
}

DualTensors WeightedLayer::backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options) {
  Parameter& w = start_backward(options.weight_grad);
  const DualTensors adjoints = last_->backward_dual(y_bar, y_dot_bar, options, w, bias_);
  finish_backward(options.weight_grad);
  return adjoints;
}

size_t apply_spectral_norm(Layer& net, Rng& init_rng) {
  if (auto* seq = dynamic_cast<Sequential*>(&net)) {
    size_t n = 0;
    for (size_t i = 0; i < seq->size(); ++i) n += apply_spectral_norm(seq->at(i), init_rng);
    return n;
  }
  // A residual block's branches in its parameters() order: main, then the shortcut.
  if (auto* block = dynamic_cast<Residual*>(&net))
    return apply_spectral_norm(block->main(), init_rng) +
           (block->shortcut() ? apply_spectral_norm(*block->shortcut(), init_rng) : 0);
  if (auto* linear = dynamic_cast<Linear*>(&net)) linear->enable_spectral_norm(init_rng);
  else if (auto* conv = dynamic_cast<Conv2d*>(&net)) conv->enable_spectral_norm(init_rng);
  else if (auto* head = dynamic_cast<ProjectionHead*>(&net)) head->enable_spectral_norm(init_rng);
  else return 0;
  return 1;
}

}  // namespace gantry
