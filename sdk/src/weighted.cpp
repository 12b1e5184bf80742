#include "weighted.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

namespace gantry::detail {

void WeightedPlan::bind(const dnnl::memory::desc& src_md, const dnnl::memory::desc& weights_md,
                        const dnnl::memory::desc& bias_md, const dnnl::memory::desc& dst_md, Parameter& weight,
                        Parameter& b) {
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
}

const Tensor& WeightedPlan::forward(const Tensor& input) {
  x = &input;
  src.set_data_handle(const_cast<float*>(input.data()));
  fwd.execute(stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}});
  stream().wait();
  return y;
}

const Tensor& WeightedPlan::backward(const Tensor& dy, BackwardOptions options, Parameter& weight, Parameter& b) {
  GANTRY_ASSERT(x != nullptr && dy.size() == y.size());
  diff_dst.set_data_handle(const_cast<float*>(dy.data()));
  if (options.weight_grad) {
    // The first gradient after zero_grad() is written in place; later ones are summed.
    float* dw = weight.grad_is_zero ? weight.grad.data() : dw_scratch.data();
    float* db = b.grad_is_zero ? b.grad.data() : db_scratch.data();
    src.set_data_handle(const_cast<float*>(x->data()));
    diff_weights.set_data_handle(dw);
    diff_bias.set_data_handle(db);
    bwd_weights.execute(stream(), {{DNNL_ARG_SRC, src},
                                   {DNNL_ARG_DIFF_DST, diff_dst},
                                   {DNNL_ARG_DIFF_WEIGHTS, diff_weights},
                                   {DNNL_ARG_DIFF_BIAS, diff_bias}});
    stream().wait();
    if (weight.grad_is_zero) weight.grad_is_zero = false;
    else weight.accumulate(dw_scratch);
    if (b.grad_is_zero) b.grad_is_zero = false;
    else b.accumulate(db_scratch);
  }
  if (!options.input_grad) return empty_tensor();
  bwd_data.execute(stream(), {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, diff_src}});
  stream().wait();
  return dx;
}

}  // namespace gantry::detail

namespace gantry {

WeightedLayer::WeightedLayer(std::vector<int64_t> weight_shape, int64_t outputs, float init_bound, Rng& init_rng)
    : weight_{"weight", Tensor(weight_shape), Tensor(weight_shape)}, bias_{"bias", Tensor({outputs}), Tensor({outputs})} {
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
