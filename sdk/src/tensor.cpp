#include <gantry/error.hpp>
#include <gantry/tensor.hpp>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

namespace gantry {

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

Tensor::Tensor(std::vector<int64_t> shape)
    : shape_(std::move(shape)), data_(static_cast<size_t>(element_count(shape_)), 0.0f) {}

Tensor::Tensor(std::vector<int64_t> shape, std::vector<float> values)
    : shape_(std::move(shape)), data_(std::move(values)) {
  GANTRY_ASSERT(static_cast<int64_t>(data_.size()) == element_count(shape_));
}

int64_t Tensor::sample_size() const {
  if (shape_.empty() || shape_[0] == 0) return 0;
  return size() / shape_[0];
}

void Tensor::reshape(std::vector<int64_t> shape) {
  const auto n = static_cast<size_t>(element_count(shape));
  if (n != data_.size()) data_.resize(n);
  shape_ = std::move(shape);
}

void Tensor::fill(float value) { std::fill(data_.begin(), data_.end(), value); }

void Tensor::copy_rows_from(const Tensor& src, int64_t first_row) {
  GANTRY_ASSERT(src.sample_size() == sample_size());
  GANTRY_ASSERT(first_row + src.dim(0) <= dim(0));
  std::memcpy(data() + first_row * sample_size(), src.data(), sizeof(float) * src.data_.size());
}

}  // namespace gantry
