#include "dnnl_util.hpp"

#include <gantry/conditional.hpp>
#include <gantry/error.hpp>

#include <fmt/format.h>

namespace gantry {

using detail::empty_tensor;

namespace {
Tensor per_class(int64_t classes, int64_t channels, float value) {
  Tensor t({classes, channels});
  t.fill(value);
  return t;
}
}  // namespace

// The normalisation is the SDK's BatchNorm (oneDNN, PyTorch's running statistics) with its own
// γ = 1 and β = 0 left untrained; only the per-class affine step is new.
ConditionalBatchNorm::ConditionalBatchNorm(int64_t channels, std::shared_ptr<const LabelSlot> slot, float momentum,
                                           float eps)
    : channels_(channels), slot_(std::move(slot)), norm_(channels, momentum, eps),
      gamma_("gamma", per_class(slot_->classes(), channels, 1.0f)),
      beta_("beta", per_class(slot_->classes(), channels, 0.0f)), d_gamma_(gamma_.value.shape()),
      d_beta_(beta_.value.shape()) {}

std::string ConditionalBatchNorm::describe() const {
  return fmt::format("ConditionalBatchNorm({}, {} classes)", channels_, slot_->classes());
}

const Tensor& ConditionalBatchNorm::forward(const Tensor& x, Mode mode) {
  x_hat_ = &norm_.forward(x, mode);  // checks the shape
  const int64_t n = x.dim(0), spatial = x.sample_size() / channels_;
  slot_->read(n, describe(), labels_);
  y_.reshape(x.shape());
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = labels_[static_cast<size_t>(i)];
    const float* g = gamma_.value.data() + label * channels_;
    const float* b = beta_.value.data() + label * channels_;
    for (int64_t c = 0; c < channels_; ++c) {
      const int64_t at = (i * channels_ + c) * spatial;
      for (int64_t s = 0; s < spatial; ++s) y_[at + s] = g[c] * (*x_hat_)[at + s] + b[c];
    }
  }
  return y_;
}

const Tensor& ConditionalBatchNorm::backward(const Tensor& dy, BackwardOptions options) {
  GANTRY_ASSERT(x_hat_ != nullptr && dy.size() == x_hat_->size());
  const int64_t n = static_cast<int64_t>(labels_.size()), spatial = dy.size() / (n * channels_);
  if (options.weight_grad) {
    Tensor& dg = gamma_.write_buffer(d_gamma_);
    Tensor& db = beta_.write_buffer(d_beta_);
    dg.fill(0.0f);
    db.fill(0.0f);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t label = labels_[static_cast<size_t>(i)];
      for (int64_t c = 0; c < channels_; ++c) {
        const int64_t at = (i * channels_ + c) * spatial;
        double sg = 0, sb = 0;
        for (int64_t s = 0; s < spatial; ++s) sg += static_cast<double>(dy[at + s]) * (*x_hat_)[at + s], sb += dy[at + s];
        dg[label * channels_ + c] += static_cast<float>(sg);
        db[label * channels_ + c] += static_cast<float>(sb);
      }
    }
    gamma_.commit(d_gamma_);
    beta_.commit(d_beta_);
  }
  if (!options.input_grad) return empty_tensor();
  d_x_hat_.reshape(dy.shape());
  for (int64_t i = 0; i < n; ++i) {
    const float* g = gamma_.value.data() + labels_[static_cast<size_t>(i)] * channels_;
    for (int64_t c = 0; c < channels_; ++c) {
      const int64_t at = (i * channels_ + c) * spatial;
      for (int64_t s = 0; s < spatial; ++s) d_x_hat_[at + s] = g[c] * dy[at + s];
    }
  }
  // The inner γ and β get no gradient: they are constants here.
  return norm_.backward(d_x_hat_, {.input_grad = true, .weight_grad = false});
}

}  // namespace gantry
