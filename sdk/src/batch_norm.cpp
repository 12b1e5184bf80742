#include "weighted.hpp"  // Staged: a primitive's own layout behind plain tensors

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <fmt/format.h>

namespace gantry {

using namespace detail;
using dnnl::normalization_flags;

struct BatchNorm::Plan {
  dnnl::batch_normalization_forward fwd;
  dnnl::batch_normalization_backward bwd;
  dnnl::memory src, dst, diff_dst, diff_src, scale, shift, mean, variance, diff_scale, diff_shift;  // plain
  Staged in_src, out_dst, in_diff_dst, out_diff_src;
  Tensor y, dx, batch_mean, batch_var, dgamma, dbeta;
  const Tensor* x = nullptr;
  int64_t per_channel = 0;  // samples behind each channel's statistics: N·H·W
  bool training = true;
};

BatchNorm::BatchNorm(int64_t channels, float momentum, float eps)
    : channels_(channels), momentum_(momentum), eps_(eps),
      gamma_("gamma", Tensor({channels})), beta_("beta", Tensor({channels})),
      running_mean_({channels}), running_var_({channels}) {
  GANTRY_ASSERT(channels > 0);
  gamma_.value.fill(1.0f);
  running_var_.fill(1.0f);
}

BatchNorm::~BatchNorm() = default;

std::string BatchNorm::describe() const { return fmt::format("BatchNorm({})", channels_); }

BatchNorm::Plan& BatchNorm::plan_for(const std::vector<int64_t>& shape, Mode mode) {
  auto key = std::make_pair(shape, mode);
  auto it = plans_.find(key);
  if (it != plans_.end()) return *it->second;
  if ((shape.size() != 2 && shape.size() != 4) || shape[1] != channels_)
    throw Error(fmt::format("{} needs input [N, {}] or [N, {}, H, W], got {}", describe(), channels_, channels_,
                            shape_string(shape)));
  auto p = std::make_unique<Plan>();
  p->training = mode == Mode::train;
  p->per_channel = element_count(shape) / channels_;
  if (p->training && p->per_channel < 2)
    throw Error(fmt::format("{} in training mode needs more than one value per channel, got {}", describe(),
                            shape_string(shape)));
  const auto md = plain_md(shape);
  // oneDNN's batch norm on plain NCHW is its slow reference-like kernel; on the blocked layout of the
  // CPU's vector width it is a JIT kernel, several times faster even with a reorder in and out
  // (ONEDNN_VERBOSE, dcgan bench). The width matters: on an AVX2 CPU nChw16c has no JIT kernel and
  // fell to `bnorm_ref`, half of a ResNet generator step's time.
  const int64_t block = channel_block();
  const bool blocked = shape.size() == 4 && channels_ % block == 0;
  const auto inner_md = blocked ? dnnl::memory::desc(dnnl::memory::dims(shape.begin(), shape.end()), dt::f32,
                                                     block == 16 ? tag::nChw16c : tag::nChw8c)
                                : md;
  const auto c_md = plain_md({channels_});
  auto flags = normalization_flags::use_scale | normalization_flags::use_shift;
  if (!p->training) flags = flags | normalization_flags::use_global_stats;
  auto fwd_pd = dnnl::batch_normalization_forward::primitive_desc(
      {p->training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, inner_md, eps_, flags},
      engine());
  p->fwd = dnnl::batch_normalization_forward(fwd_pd);
  if (p->training) {
    auto bwd_pd = dnnl::batch_normalization_backward::primitive_desc(
        {dnnl::prop_kind::backward, inner_md, inner_md, eps_, flags}, engine(), fwd_pd);
    p->bwd = dnnl::batch_normalization_backward(bwd_pd);
  }
  p->y = Tensor(shape);
  p->dx = Tensor(shape);
  p->batch_mean = Tensor({channels_});
  p->batch_var = Tensor({channels_});
  p->dgamma = Tensor({channels_});
  p->dbeta = Tensor({channels_});
  p->src = wrap(md, nullptr);
  p->dst = wrap(md, p->y.data());
  p->diff_dst = wrap(md, nullptr);
  p->diff_src = wrap(md, p->dx.data());
  p->in_src.init(p->src, inner_md, false);
  p->out_dst.init(p->dst, inner_md, true);
  p->in_diff_dst.init(p->diff_dst, inner_md, false, &p->out_dst);  // the output is out before dy comes in
  p->out_diff_src.init(p->diff_src, inner_md, true);
  p->scale = wrap(c_md, gamma_.value.data());
  p->shift = wrap(c_md, beta_.value.data());
  // Evaluation normalises with the running statistics, training with (and writes) the batch's.
  p->mean = wrap(c_md, p->training ? p->batch_mean.data() : running_mean_.data());
  p->variance = wrap(c_md, p->training ? p->batch_var.data() : running_var_.data());
  p->diff_scale = wrap(c_md, p->dgamma.data());
  p->diff_shift = wrap(c_md, p->dbeta.data());
  return *plans_.emplace(std::move(key), std::move(p)).first->second;
}

const Tensor& BatchNorm::forward(const Tensor& x, Mode mode) {
  Plan& p = plan_for(x.shape(), mode);
  p.x = &x;
  p.src.set_data_handle(const_cast<float*>(x.data()));
  dnnl::memory& src = p.in_src.in(p.src);
  p.fwd.execute(stream(), {{DNNL_ARG_SRC, src},
                           {DNNL_ARG_DST, p.out_dst.active ? p.out_dst.inner : p.dst},
                           {DNNL_ARG_SCALE, p.scale},
                           {DNNL_ARG_SHIFT, p.shift},
                           {DNNL_ARG_MEAN, p.mean},
                           {DNNL_ARG_VARIANCE, p.variance}});
  p.out_dst.out(p.dst);
  stream().wait();
  if (p.training) {
    // PyTorch's running statistics: the variance kept for evaluation is the unbiased one.
    const float unbias = static_cast<float>(p.per_channel) / static_cast<float>(p.per_channel - 1);
    for (int64_t c = 0; c < channels_; ++c) {
      running_mean_[c] = (1.0f - momentum_) * running_mean_[c] + momentum_ * p.batch_mean[c];
      running_var_[c] = (1.0f - momentum_) * running_var_[c] + momentum_ * p.batch_var[c] * unbias;
    }
  }
  last_ = &p;
  return p.y;
}

const Tensor& BatchNorm::backward(const Tensor& dy, BackwardOptions options) {
  GANTRY_ASSERT(last_ != nullptr);
  Plan& p = *last_;
  if (!p.training) throw Error(fmt::format("{}: backward after an evaluation-mode forward", describe()));
  GANTRY_ASSERT(dy.size() == p.y.size());
  // One primitive gives dx, dγ and dβ together; the part not asked for is simply not used.
  // The converted input from forward() is still in in_src (its input must stay unchanged).
  p.src.set_data_handle(const_cast<float*>(p.x->data()));
  dnnl::memory& src = p.in_src.active ? p.in_src.inner : p.src;
  p.diff_dst.set_data_handle(const_cast<float*>(dy.data()));
  dnnl::memory& diff_dst = p.in_diff_dst.in(p.diff_dst);
  p.bwd.execute(stream(), {{DNNL_ARG_SRC, src},
                           {DNNL_ARG_MEAN, p.mean},
                           {DNNL_ARG_VARIANCE, p.variance},
                           {DNNL_ARG_DIFF_DST, diff_dst},
                           {DNNL_ARG_SCALE, p.scale},
                           {DNNL_ARG_SHIFT, p.shift},  // oneDNN 2.6 insists on it, though dx does not need β
                           {DNNL_ARG_DIFF_SRC, p.out_diff_src.active ? p.out_diff_src.inner : p.diff_src},
                           {DNNL_ARG_DIFF_SCALE, p.diff_scale},
                           {DNNL_ARG_DIFF_SHIFT, p.diff_shift}});
  p.out_diff_src.out(p.diff_src);
  stream().wait();
  if (options.weight_grad) {
    gamma_.accumulate(p.dgamma);
    beta_.accumulate(p.dbeta);
  }
  return options.input_grad ? p.dx : empty_tensor();
}

}  // namespace gantry
