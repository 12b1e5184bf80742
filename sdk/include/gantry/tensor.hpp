#pragma once
#include <gantry/api.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace gantry {

/// A dense fp32 tensor in plain row-major layout: [N, F] or [N, C, H, W].
class GANTRY_API Tensor {
 public:
  Tensor() = default;
  /// A zero-filled tensor of the given shape.
  explicit Tensor(std::vector<int64_t> shape);
  Tensor(std::vector<int64_t> shape, std::vector<float> values);

  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t dim(size_t axis) const { return shape_.at(axis); }
  size_t rank() const { return shape_.size(); }
  /// Number of elements.
  int64_t size() const { return static_cast<int64_t>(data_.size()); }
  /// Elements per sample (all axes but the first).
  int64_t sample_size() const;

  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  std::span<float> values() { return data_; }
  std::span<const float> values() const { return data_; }
  float& operator[](int64_t i) { return data_[static_cast<size_t>(i)]; }
  float operator[](int64_t i) const { return data_[static_cast<size_t>(i)]; }

  /// Changes the shape; reallocates only when the element count changes.
  void reshape(std::vector<int64_t> shape);
  void fill(float value);
  /// Copies rows [0, src.shape[0]) of src into this tensor starting at row `first_row`.
  void copy_rows_from(const Tensor& src, int64_t first_row);

 private:
  std::vector<int64_t> shape_;
  std::vector<float> data_;
};

/// "[2, 3, 4]"
GANTRY_API std::string shape_string(const std::vector<int64_t>& shape);
GANTRY_API int64_t element_count(const std::vector<int64_t>& shape);

}  // namespace gantry
