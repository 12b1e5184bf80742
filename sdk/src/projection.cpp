#include "dnnl_util.hpp"

#include <gantry/conditional.hpp>
#include <gantry/error.hpp>

#include <cmath>
#include <fmt/format.h>

namespace gantry {

using detail::empty_tensor;

namespace {
Tensor initial_embedding(int64_t classes, int64_t features, Rng& rng) {
  Tensor e({classes, features});
  const float bound = 1.0f / std::sqrt(static_cast<float>(features));
  rng.fill_uniform(e.values(), -bound, bound);
  return e;
}
}  // namespace

// E is drawn after ψ, so a projection D's other weights are those of the unconditional D that
// ends in Linear(F, 1) at the same place.
ProjectionHead::ProjectionHead(int64_t features, std::shared_ptr<const LabelSlot> slot, Rng& init_rng)
    : features_(features), slot_(std::move(slot)), psi_(features, 1, init_rng),
      embedding_("embedding", initial_embedding(slot_->classes(), features, init_rng)),
      d_embedding_(embedding_.value.shape()) {}

std::vector<Parameter*> ProjectionHead::parameters() {
  std::vector<Parameter*> params = psi_.parameters();
  params.push_back(&embedding_);
  return params;
}

std::string ProjectionHead::describe() const {
  return fmt::format("ProjectionHead({}, {} classes{})", features_, slot_->classes(),
                     psi_.spectral_norm() ? ", spectral_norm on ψ" : "");
}

const Tensor& ProjectionHead::forward(const Tensor& x, Mode mode) {
  if (x.rank() < 2 || x.sample_size() != features_)
    throw Error(fmt::format("{} needs input [N, {}], got {}", describe(), features_, shape_string(x.shape())));
  const int64_t n = x.dim(0);
  slot_->read(n, describe(), labels_);
  y_ = psi_.forward(x, mode);
  for (int64_t i = 0; i < n; ++i) {
    const float* e = embedding_.value.data() + labels_[static_cast<size_t>(i)] * features_;
    const float* row = x.data() + i * features_;
    double dot = 0;
    for (int64_t f = 0; f < features_; ++f) dot += static_cast<double>(e[f]) * row[f];
    y_[i] += static_cast<float>(dot);
  }
  x_ = &x;
  return y_;
}

const Tensor& ProjectionHead::backward(const Tensor& dy, BackwardOptions options) {
  const int64_t n = static_cast<int64_t>(labels_.size());
  GANTRY_ASSERT(x_ != nullptr && dy.size() == n);
  if (options.weight_grad) {
    Tensor& g = embedding_.write_buffer(d_embedding_);
    g.fill(0.0f);
    for (int64_t i = 0; i < n; ++i) {
      float* dst = g.data() + labels_[static_cast<size_t>(i)] * features_;
      const float* row = x_->data() + i * features_;
      for (int64_t f = 0; f < features_; ++f) dst[f] += dy[i] * row[f];
    }
    embedding_.commit(d_embedding_);
  }
  if (!options.input_grad) {
    if (options.weight_grad) psi_.backward(dy, options);
    return empty_tensor();
  }
  dx_ = psi_.backward(dy, options);
  for (int64_t i = 0; i < n; ++i) {
    const float* e = embedding_.value.data() + labels_[static_cast<size_t>(i)] * features_;
    float* row = dx_.data() + i * features_;
    for (int64_t f = 0; f < features_; ++f) row[f] += dy[i] * e[f];
  }
  return dx_;
}

}  // namespace gantry
