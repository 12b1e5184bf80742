#include "dnnl_util.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <algorithm>
#include <fmt/format.h>

namespace gantry {

using detail::empty_tensor;

// A copy into a buffer of the new shape: the copy is small beside the layers around it, and it
// keeps the rule that a layer's output is its own buffer.
const Tensor& ShapeRenamingLayer::forward(const Tensor& x, Mode /*mode*/) {
  std::vector<int64_t> shape = out_shape(x.shape());
  GANTRY_ASSERT(element_count(shape) == x.size());
  in_shape_ = x.shape();
  y_.reshape(std::move(shape));
  std::copy(x.data(), x.data() + x.size(), y_.data());
  return y_;
}

// The output is dead once its gradient comes back, so the input gradient reuses its buffer.
const Tensor& ShapeRenamingLayer::backward(const Tensor& dy, BackwardOptions options) {
  GANTRY_ASSERT(dy.size() == y_.size());
  if (!options.input_grad) return empty_tensor();
  y_.reshape(in_shape_);
  std::copy(dy.data(), dy.data() + dy.size(), y_.data());
  return y_;
}

DualTensors ShapeRenamingLayer::forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode) {
  GANTRY_ASSERT(x_dot.size() == x.size());
  forward(x, mode);
  y_dot_.reshape(y_.shape());
  std::copy(x_dot.data(), x_dot.data() + x_dot.size(), y_dot_.data());
  return {&y_, &y_dot_};
}

DualTensors ShapeRenamingLayer::backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options) {
  const Tensor& none = empty_tensor();
  if (!options.input_grad) return {&none, &none};
  // As in backward(): both outputs are dead by now, so their buffers carry the adjoints.
  for (auto [from, to] : {std::pair{&y_bar, &y_}, std::pair{&y_dot_bar, &y_dot_}}) {
    if (from->size() == 0) continue;
    GANTRY_ASSERT(from->size() == to->size());
    to->reshape(in_shape_);
    std::copy(from->data(), from->data() + from->size(), to->data());
  }
  return {y_bar.size() > 0 ? &y_ : &none, y_dot_bar.size() > 0 ? &y_dot_ : &none};
}

Reshape::Reshape(std::vector<int64_t> sample_shape) : sample_shape_(std::move(sample_shape)) {
  GANTRY_ASSERT(!sample_shape_.empty() && element_count(sample_shape_) > 0);
}

std::string Reshape::describe() const { return fmt::format("Reshape({})", shape_string(sample_shape_)); }

std::vector<int64_t> Reshape::out_shape(const std::vector<int64_t>& in) const {
  if (in.empty() || element_count({in.begin() + 1, in.end()}) != element_count(sample_shape_))
    throw Error(fmt::format("{} needs {} values per sample, got input {}", describe(), element_count(sample_shape_),
                            shape_string(in)));
  std::vector<int64_t> shape{in[0]};
  shape.insert(shape.end(), sample_shape_.begin(), sample_shape_.end());
  return shape;
}

std::unique_ptr<Layer> make_flatten(int64_t sample_size) { return std::make_unique<Reshape>(std::vector<int64_t>{sample_size}); }

}  // namespace gantry
