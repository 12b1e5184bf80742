#include "dnnl_util.hpp"

#include <gantry/conditional.hpp>
#include <gantry/error.hpp>

#include <algorithm>
#include <fmt/format.h>

namespace gantry {

using detail::empty_tensor;

LabelSlot::LabelSlot(int64_t classes) : classes_(classes) { GANTRY_ASSERT(classes > 0); }

void LabelSlot::set(std::span<const int32_t> labels) {
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= classes_)
      throw Error(fmt::format("label {} of sample {} is outside [0, {})", labels[i], i, classes_));
  labels_.assign(labels.begin(), labels.end());
}

void LabelSlot::read(int64_t n, const std::string& who, std::vector<int32_t>& out) const {
  // A count mismatch means whoever runs the network did not set this batch's labels.
  if (static_cast<int64_t>(labels_.size()) != n)
    throw Error(fmt::format("{} has {} labels for a batch of {} samples: set the network's labels before forward()",
                            who, labels_.size(), n));
  out.assign(labels_.begin(), labels_.end());
}

std::vector<int32_t> cyclic_labels(int64_t n, int64_t classes) {
  GANTRY_ASSERT(classes > 0 && n >= 0);
  std::vector<int32_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = static_cast<int32_t>(i % classes);
  return labels;
}

void draw_labels(Rng& rng, int64_t classes, std::span<int32_t> out) {
  GANTRY_ASSERT(classes > 0);
  for (int32_t& label : out) label = static_cast<int32_t>(rng.below(static_cast<uint64_t>(classes)));
}

namespace {
Tensor initial_embedding(int64_t classes, int64_t embed_dim, Rng& rng) {
  if (embed_dim == 0) return Tensor({0});
  Tensor e({classes, embed_dim});
  rng.fill_normal(e.values());  // torch.nn.Embedding's initialisation
  return e;
}
}  // namespace

LabelConcat::LabelConcat(int64_t in_features, int64_t embed_dim, std::shared_ptr<const LabelSlot> slot, Rng& init_rng)
    : in_(in_features), embed_dim_(embed_dim), width_(embed_dim > 0 ? embed_dim : slot->classes()),
      slot_(std::move(slot)), embedding_("embedding", initial_embedding(slot_->classes(), embed_dim, init_rng)),
      d_embedding_(embedding_.value.shape()) {
  GANTRY_ASSERT(in_features > 0 && embed_dim >= 0);
}

std::vector<Parameter*> LabelConcat::parameters() {
  if (embed_dim_ == 0) return {};
  return {&embedding_};
}

std::string LabelConcat::describe() const {
  if (embed_dim_ == 0) return fmt::format("LabelConcat({}, one-hot {})", in_, slot_->classes());
  return fmt::format("LabelConcat({}, embedding {}×{})", in_, slot_->classes(), embed_dim_);
}

const Tensor& LabelConcat::forward(const Tensor& x, Mode /*mode*/) {
  if (x.rank() != 2 || x.dim(1) != in_)
    throw Error(fmt::format("{} needs input [N, {}], got {}", describe(), in_, shape_string(x.shape())));
  const int64_t n = x.dim(0), out = in_ + width_;
  slot_->read(n, describe(), labels_);
  y_.reshape({n, out});
  for (int64_t i = 0; i < n; ++i) {
    float* row = y_.data() + i * out;
    std::copy_n(x.data() + i * in_, in_, row);
    const int64_t label = labels_[static_cast<size_t>(i)];
    if (embed_dim_ > 0) {
      std::copy_n(embedding_.value.data() + label * embed_dim_, embed_dim_, row + in_);
    } else {
      std::fill_n(row + in_, width_, 0.0f);
      row[in_ + label] = 1.0f;
    }
  }
  return y_;
}

const Tensor& LabelConcat::backward(const Tensor& dy, BackwardOptions options) {
  const int64_t n = static_cast<int64_t>(labels_.size()), out = in_ + width_;
  GANTRY_ASSERT(dy.size() == n * out);
  if (options.weight_grad && embed_dim_ > 0) {
    Tensor& g = embedding_.write_buffer(d_embedding_);
    g.fill(0.0f);
    for (int64_t i = 0; i < n; ++i) {
      float* dst = g.data() + labels_[static_cast<size_t>(i)] * embed_dim_;
      const float* src = dy.data() + i * out + in_;
      for (int64_t j = 0; j < embed_dim_; ++j) dst[j] += src[j];
    }
    embedding_.commit(d_embedding_);
  }
  if (!options.input_grad) return empty_tensor();
  dx_.reshape({n, in_});
  for (int64_t i = 0; i < n; ++i) std::copy_n(dy.data() + i * out, in_, dx_.data() + i * in_);
  return dx_;
}

GeneratorConditioning::GeneratorConditioning(const Params& p, int64_t num_classes) {
  if (num_classes == 0) return;
  slot_ = std::make_shared<LabelSlot>(num_classes);
  batch_norm_ = p.string("condition") == "batch_norm";
  embed_dim_ = p.integer("embed_dim");
}

int64_t GeneratorConditioning::add_input(Sequential& net, int64_t latent, Rng& init_rng) const {
  if (!slot_ || batch_norm_) return latent;
  return net.emplace<LabelConcat>(latent, embed_dim_, slot_, init_rng).out_features();
}

void GeneratorConditioning::add_batch_norm(Sequential& net, int64_t channels) const {
  if (batch_norm_) net.emplace<ConditionalBatchNorm>(channels, slot_);
  else net.emplace<BatchNorm>(channels);
}

}  // namespace gantry
