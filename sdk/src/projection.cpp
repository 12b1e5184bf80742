#include "dnnl_util.hpp"
#include "spectral_norm.hpp"

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

ProjectionHead::~ProjectionHead() = default;

std::vector<Parameter*> ProjectionHead::parameters() {
  std::vector<Parameter*> params = psi_.parameters();
  params.push_back(&embedding_);
  return params;
}

std::vector<Tensor*> ProjectionHead::buffers() {
  std::vector<Tensor*> b = psi_.buffers();
  if (sn_) b.insert(b.end(), {&sn_->u, &sn_->v});
  return b;
}

// ψ's u and v are drawn first, so ψ normalises exactly as a Linear(F, 1) in the same place would.
void ProjectionHead::enable_spectral_norm(Rng& init_rng) {
  if (sn_) return;
  psi_.enable_spectral_norm(init_rng);
  sn_ = std::make_unique<detail::SpectralNorm>(embedding_.value.shape(), init_rng);
}

std::string ProjectionHead::describe() const {
  return fmt::format("ProjectionHead({}, {} classes{})", features_, slot_->classes(),
                     sn_ ? ", spectral_norm" : "");
}

const Tensor& ProjectionHead::used_embedding() const { return sn_ ? sn_->weight().value : embedding_.value; }

// With spectral norm the gradient goes to E/σ first, then through the normalisation into E.
Parameter& ProjectionHead::embedding_grad_target() {
  if (!sn_) return embedding_;
  sn_->weight().zero_grad();
  return sn_->weight();
}

void ProjectionHead::finish_embedding_grad() {
  if (sn_) sn_->add_gradient(embedding_);
}

namespace {

// y[i] += ⟨E[label_i], x_i⟩
void add_projection(const Tensor& x, const Tensor& e, const std::vector<int32_t>& labels, Tensor& y) {
  const int64_t f_count = e.dim(1);
  for (size_t i = 0; i < labels.size(); ++i) {
    const float* ei = e.data() + labels[i] * f_count;
    const float* row = x.data() + static_cast<int64_t>(i) * f_count;
    double dot = 0;
    for (int64_t f = 0; f < f_count; ++f) dot += static_cast<double>(ei[f]) * row[f];
    y[static_cast<int64_t>(i)] += static_cast<float>(dot);
  }
}

// g[label_i] += dy_i · x_i (dL/dE), or with x = E and g = dx: dx_i += dy_i · E[label_i] (dL/dφ)
void add_scaled_rows(const Tensor& dy, const Tensor& src, bool src_by_label, const std::vector<int32_t>& labels,
                     Tensor& dst) {
  const int64_t f_count = src.sample_size();
  for (size_t i = 0; i < labels.size(); ++i) {
    const int64_t label = labels[i], row = static_cast<int64_t>(i);
    const float* s = src.data() + (src_by_label ? label : row) * f_count;
    float* d = dst.data() + (src_by_label ? row : label) * f_count;
    const float scale = dy[row];
    for (int64_t f = 0; f < f_count; ++f) d[f] += scale * s[f];
  }
}

}  // namespace

const Tensor& ProjectionHead::forward(const Tensor& x, Mode mode) {
  if (x.rank() < 2 || x.sample_size() != features_)
    throw Error(fmt::format("{} needs input [N, {}], got {}", describe(), features_, shape_string(x.shape())));
  slot_->read(x.dim(0), describe(), labels_);
  y_ = psi_.forward(x, mode);
  if (sn_) sn_->normalise(embedding_.value, mode == Mode::train);
  add_projection(x, used_embedding(), labels_, y_);
  x_ = &x;
  x_dot_ = nullptr;  // a backward_dual needs a forward_dual
  return y_;
}

const Tensor& ProjectionHead::backward(const Tensor& dy, BackwardOptions options) {
  GANTRY_ASSERT(x_ != nullptr && dy.size() == static_cast<int64_t>(labels_.size()));
  if (options.weight_grad) {
    Parameter& target = embedding_grad_target();
    Tensor& g = target.write_buffer(d_embedding_);
    g.fill(0.0f);
    add_scaled_rows(dy, *x_, false, labels_, g);
    target.commit(d_embedding_);
    finish_embedding_grad();
  }
  if (!options.input_grad) {
    if (options.weight_grad) psi_.backward(dy, options);
    return empty_tensor();
  }
  dx_ = psi_.backward(dy, options);
  add_scaled_rows(dy, used_embedding(), true, labels_, dx_);
  return dx_;
}

// No power iteration, as in WeightedLayer::forward_dual: the dual pass differentiates the forward
// pass whose iteration the step already took.
DualTensors ProjectionHead::forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode) {
  if (x.rank() < 2 || x.sample_size() != features_ || x_dot.size() != x.size())
    throw Error(fmt::format("{} needs input [N, {}] and a tangent of its shape, got {}", describe(), features_,
                            shape_string(x.shape())));
  slot_->read(x.dim(0), describe(), labels_);
  const DualTensors psi = psi_.forward_dual(x, x_dot, mode);
  y_ = *psi.value;
  y_dot_ = *psi.tangent;
  if (sn_) sn_->normalise(embedding_.value, false);
  add_projection(x, used_embedding(), labels_, y_);
  add_projection(x_dot, used_embedding(), labels_, y_dot_);
  x_ = &x;
  x_dot_ = &x_dot;
  return {&y_, &y_dot_};
}

// The head is linear in φ, so ẏ does not depend on φ: x̄ = Jᵀȳ and ẋ̄ = Jᵀẏ̄, with J = ψ's weight + E[y].
DualTensors ProjectionHead::backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options) {
  GANTRY_ASSERT(x_ != nullptr && x_dot_ != nullptr);
  const auto n = static_cast<int64_t>(labels_.size());
  GANTRY_ASSERT((y_bar.size() == 0 || y_bar.size() == n) && (y_dot_bar.size() == 0 || y_dot_bar.size() == n));
  const bool primal = y_bar.size() > 0, tangent = y_dot_bar.size() > 0;
  if (options.weight_grad) {
    Parameter& target = embedding_grad_target();
    Tensor& g = target.write_buffer(d_embedding_);
    g.fill(0.0f);
    if (primal) add_scaled_rows(y_bar, *x_, false, labels_, g);
    if (tangent) add_scaled_rows(y_dot_bar, *x_dot_, false, labels_, g);
    target.commit(d_embedding_);
    finish_embedding_grad();
  }
  const Tensor& none = empty_tensor();
  if (!options.input_grad && !options.weight_grad) return {&none, &none};
  const DualTensors psi = psi_.backward_dual(y_bar, y_dot_bar, options);
  if (!options.input_grad) return {&none, &none};
  if (primal) {
    dx_ = *psi.value;
    add_scaled_rows(y_bar, used_embedding(), true, labels_, dx_);
  }
  if (tangent) {
    dx_dot_ = *psi.tangent;
    add_scaled_rows(y_dot_bar, used_embedding(), true, labels_, dx_dot_);
  }
  return {primal ? &dx_ : &none, tangent ? &dx_dot_ : &none};
}

}  // namespace gantry
