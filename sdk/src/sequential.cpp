#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace gantry {

Sequential::Sequential() = default;
Sequential::~Sequential() = default;

const Tensor& Sequential::forward(const Tensor& x, Mode mode) {
  GANTRY_ASSERT(!layers_.empty());
  const Tensor* h = &x;
  for (auto& layer : layers_) h = &layer->forward(*h, mode);
  return *h;
}

const Tensor& Sequential::backward(const Tensor& dy, BackwardOptions options) {
  GANTRY_ASSERT(!layers_.empty());
  const Tensor* g = &dy;
  for (size_t i = layers_.size(); i-- > 0;) {
    // Inner layers always pass a gradient on; only the first may skip its input gradient.
    BackwardOptions o{i == 0 ? options.input_grad : true, options.weight_grad};
    g = &layers_[i]->backward(*g, o);
  }
  return *g;
}

bool Sequential::supports_dual() const {
  for (const auto& layer : layers_)
    if (!layer->supports_dual()) return false;
  return true;
}

DualTensors Sequential::forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode) {
  GANTRY_ASSERT(!layers_.empty());
  // Checked before any layer runs; Layer's own forward_dual() throws the error naming the layer.
  for (auto& layer : layers_)
    if (!layer->supports_dual()) return layer->Layer::forward_dual(x, x_dot, mode);
  DualTensors h{&x, &x_dot};
  for (auto& layer : layers_) h = layer->forward_dual(*h.value, *h.tangent, mode);
  return h;
}

DualTensors Sequential::backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options) {
  GANTRY_ASSERT(!layers_.empty());
  DualTensors g{&y_bar, &y_dot_bar};
  for (size_t i = layers_.size(); i-- > 0;) {
    BackwardOptions o{i == 0 ? options.input_grad : true, options.weight_grad};
    g = layers_[i]->backward_dual(*g.value, *g.tangent, o);
  }
  return g;
}

std::vector<Parameter*> Sequential::parameters() {
  std::vector<Parameter*> all;
  for (auto& layer : layers_)
    for (Parameter* p : layer->parameters()) all.push_back(p);
  return all;
}

std::vector<Tensor*> Sequential::buffers() {
  std::vector<Tensor*> all;
  for (auto& layer : layers_)
    for (Tensor* b : layer->buffers()) all.push_back(b);
  return all;
}

bool Sequential::couples_batch() const {
  for (const auto& layer : layers_)
    if (layer->couples_batch()) return true;
  return false;
}

std::string Sequential::describe() const {
  std::vector<std::string> parts;
  for (const auto& layer : layers_) parts.push_back(layer->describe());
  return fmt::format("{}", fmt::join(parts, " - "));
}

}  // namespace gantry

namespace gantry {

std::unique_ptr<Sequential> make_mlp(const MlpSpec& spec, Rng& init_rng) {
  auto net = std::make_unique<Sequential>();
  int64_t in = spec.in;
  const int64_t pieces = std::max<int64_t>(spec.maxout_pieces, 1);
  // The default draws happen either way, so the stream of init_rng does not depend on init_std.
  const auto linear = [&](int64_t from, int64_t to) {
    Linear& l = net->emplace<Linear>(from, to, init_rng);
    if (spec.init_std > 0.0f) {
      init_rng.fill_normal(l.weight().value.values(), 0.0f, spec.init_std);
      std::fill(l.bias().value.values().begin(), l.bias().value.values().end(), 0.0f);
    }
  };
  for (int64_t i = 0; i < spec.depth; ++i) {
    linear(in, spec.width * pieces);
    if (spec.batch_norm) net->emplace<BatchNorm>(spec.width * pieces);
    if (spec.maxout_pieces > 0) net->emplace<Maxout>(spec.maxout_pieces);
    else net->add(make_activation(spec.activation, spec.slope));
    in = spec.width;
  }
  linear(in, spec.out);
  if (spec.output_activation) net->add(make_activation(*spec.output_activation, spec.slope));
  return net;
}

}  // namespace gantry
