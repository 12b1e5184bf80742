#include "dnnl_util.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <cmath>
#include <fmt/format.h>

namespace gantry {

using namespace detail;
using dnnl::memory;

// Everything for one batch size: the primitives, their memory objects and the output buffers.
// Built on the first call with that batch size, then only executed.
struct Linear::Plan {
  dnnl::inner_product_forward fwd;
  dnnl::inner_product_backward_data bwd_data;
  dnnl::inner_product_backward_weights bwd_weights;
  memory src, weights, bias, dst, diff_dst, diff_src, diff_weights, diff_bias;
  Tensor y, dx, dw_scratch, db_scratch;
  const Tensor* x = nullptr;
};

Linear::Linear(int64_t in_features, int64_t out_features, Rng& init_rng)
    : in_(in_features), out_(out_features) {
  GANTRY_ASSERT(in_ > 0 && out_ > 0);
  weight_ = {"weight", Tensor({out_, in_}), Tensor({out_, in_})};
  bias_ = {"bias", Tensor({out_}), Tensor({out_})};
  const float bound = 1.0f / std::sqrt(static_cast<float>(in_));
  init_rng.fill_uniform(weight_.value.values(), -bound, bound);
  init_rng.fill_uniform(bias_.value.values(), -bound, bound);
}

Linear::~Linear() = default;

std::string Linear::describe() const { return fmt::format("Linear({}, {})", in_, out_); }

Linear::Plan& Linear::plan_for(int64_t batch) {
  auto it = plans_.find(batch);
  if (it != plans_.end()) return *it->second;

  auto p = std::make_unique<Plan>();
  const auto src_md = plain_md({batch, in_});
  const auto w_md = plain_md({out_, in_});
  const auto b_md = plain_md({out_});
  const auto dst_md = plain_md({batch, out_});
  // Plain layouts at every boundary: oneDNN's GEMM-based inner product takes them directly, so
  // no reorder ever runs, and the weights stay in PyTorch's [out, in] order.
  auto fwd_pd = dnnl::inner_product_forward::primitive_desc(
      {dnnl::prop_kind::forward_training, src_md, w_md, b_md, dst_md}, engine());
  auto bwd_data_pd = dnnl::inner_product_backward_data::primitive_desc(
      {src_md, w_md, dst_md}, engine(), fwd_pd);
  auto bwd_w_pd = dnnl::inner_product_backward_weights::primitive_desc(
      {src_md, w_md, b_md, dst_md}, engine(), fwd_pd);
  GANTRY_ASSERT(fwd_pd.weights_desc() == w_md && fwd_pd.dst_desc() == dst_md);
  GANTRY_ASSERT(bwd_w_pd.diff_weights_desc() == w_md);

  p->fwd = dnnl::inner_product_forward(fwd_pd);
  p->bwd_data = dnnl::inner_product_backward_data(bwd_data_pd);
  p->bwd_weights = dnnl::inner_product_backward_weights(bwd_w_pd);
  p->y = Tensor({batch, out_});
  p->dx = Tensor({batch, in_});
  p->dw_scratch = Tensor({out_, in_});
  p->db_scratch = Tensor({out_});
  p->src = wrap(src_md, nullptr);
  p->weights = wrap(w_md, weight_.value.data());
  p->bias = wrap(b_md, bias_.value.data());
  p->dst = wrap(dst_md, p->y.data());
  p->diff_dst = wrap(dst_md, nullptr);
  p->diff_src = wrap(src_md, p->dx.data());
  p->diff_weights = wrap(w_md, nullptr);
  p->diff_bias = wrap(b_md, nullptr);
  return *plans_.emplace(batch, std::move(p)).first->second;
}

const Tensor& Linear::forward(const Tensor& x, Mode /*mode*/) {
  GANTRY_ASSERT(x.rank() >= 2 && x.sample_size() == in_);
  Plan& p = plan_for(x.dim(0));
  p.x = &x;
  p.src.set_data_handle(const_cast<float*>(x.data()));
  p.fwd.execute(stream(), {{DNNL_ARG_SRC, p.src},
                           {DNNL_ARG_WEIGHTS, p.weights},
                           {DNNL_ARG_BIAS, p.bias},
                           {DNNL_ARG_DST, p.dst}});
  stream().wait();
  last_ = &p;
  return p.y;
}

const Tensor& Linear::backward(const Tensor& dy, BackwardOptions options) {
  GANTRY_ASSERT(last_ != nullptr && last_->x != nullptr);
  Plan& p = *last_;
  GANTRY_ASSERT(dy.size() == p.y.size());
  p.diff_dst.set_data_handle(const_cast<float*>(dy.data()));
  if (options.weight_grad) {
    // The first gradient after zero_grad() is written in place; later ones are summed.
    float* dw = weight_.grad_is_zero ? weight_.grad.data() : p.dw_scratch.data();
    float* db = bias_.grad_is_zero ? bias_.grad.data() : p.db_scratch.data();
    p.src.set_data_handle(const_cast<float*>(p.x->data()));
    p.diff_weights.set_data_handle(dw);
    p.diff_bias.set_data_handle(db);
    p.bwd_weights.execute(stream(), {{DNNL_ARG_SRC, p.src},
                                     {DNNL_ARG_DIFF_DST, p.diff_dst},
                                     {DNNL_ARG_DIFF_WEIGHTS, p.diff_weights},
                                     {DNNL_ARG_DIFF_BIAS, p.diff_bias}});
    stream().wait();
    if (weight_.grad_is_zero) weight_.grad_is_zero = false;
    else weight_.accumulate(p.dw_scratch);
    if (bias_.grad_is_zero) bias_.grad_is_zero = false;
    else bias_.accumulate(p.db_scratch);
  }
  if (!options.input_grad) return empty_tensor();
  p.bwd_data.execute(stream(), {{DNNL_ARG_DIFF_DST, p.diff_dst},
                                {DNNL_ARG_WEIGHTS, p.weights},
                                {DNNL_ARG_DIFF_SRC, p.diff_src}});
  stream().wait();
  return p.dx;
}

}  // namespace gantry
