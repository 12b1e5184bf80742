#include "dnnl_util.hpp"

#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <algorithm>
#include <fmt/format.h>

namespace gantry {

using detail::empty_tensor;

Pack::Pack(int64_t m) : m_(m) { GANTRY_ASSERT(m_ >= 1); }

std::string Pack::describe() const { return fmt::format("Pack({})", m_); }

std::vector<int64_t> packed_sample_shape(const std::vector<int64_t>& sample_shape, int64_t m) {
  GANTRY_ASSERT(!sample_shape.empty() && m >= 1);
  std::vector<int64_t> packed = sample_shape;
  packed[0] *= m;
  return packed;
}

// In plain row-major layout the m samples of a packed input are already contiguous, so packing
// only renames the shape; the copy keeps the rule that a layer's output is its own buffer.
const Tensor& Pack::forward(const Tensor& x, Mode /*mode*/) {
  if (x.rank() < 2 || x.dim(0) % m_ != 0)
    throw Error(fmt::format("{} needs a batch that is a multiple of {}, got input {}", describe(), m_,
                            shape_string(x.shape())));
  std::vector<int64_t> shape{x.dim(0) / m_};
  const std::vector<int64_t> sample(x.shape().begin() + 1, x.shape().end());
  const std::vector<int64_t> packed = packed_sample_shape(sample, m_);
  shape.insert(shape.end(), packed.begin(), packed.end());
  in_shape_ = x.shape();
  y_.reshape(std::move(shape));
  std::copy(x.data(), x.data() + x.size(), y_.data());
  return y_;
}

// The output is dead once its gradient comes back, so the input gradient reuses its buffer.
const Tensor& Pack::backward(const Tensor& dy, BackwardOptions options) {
  GANTRY_ASSERT(dy.size() == y_.size());
  if (!options.input_grad) return empty_tensor();
  y_.reshape(in_shape_);
  std::copy(dy.data(), dy.data() + dy.size(), y_.data());
  return y_;
}

DualTensors Pack::forward_dual(const Tensor& x, const Tensor& x_dot, Mode mode) {
  GANTRY_ASSERT(x_dot.size() == x.size());
  forward(x, mode);
  y_dot_.reshape(y_.shape());
  std::copy(x_dot.data(), x_dot.data() + x_dot.size(), y_dot_.data());
  return {&y_, &y_dot_};
}

DualTensors Pack::backward_dual(const Tensor& y_bar, const Tensor& y_dot_bar, BackwardOptions options) {
  const Tensor& none = empty_tensor();
  if (!options.input_grad) return {&none, &none};
  for (auto [from, to] : {std::pair{&y_bar, &y_}, std::pair{&y_dot_bar, &y_dot_}}) {
    if (from->size() == 0) continue;
    GANTRY_ASSERT(from->size() == to->size());
    to->reshape(in_shape_);
    std::copy(from->data(), from->data() + from->size(), to->data());
  }
  return {y_bar.size() > 0 ? &y_ : &none, y_dot_bar.size() > 0 ? &y_dot_ : &none};
}

}  // namespace gantry
