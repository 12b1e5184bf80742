#include <gantry/error.hpp>
#include <gantry/layers.hpp>

#include <fmt/format.h>

namespace gantry {

Pack::Pack(int64_t m) : m_(m) { GANTRY_ASSERT(m_ >= 1); }

std::string Pack::describe() const { return fmt::format("Pack({})", m_); }

std::vector<int64_t> packed_sample_shape(const std::vector<int64_t>& sample_shape, int64_t m) {
  GANTRY_ASSERT(!sample_shape.empty() && m >= 1);
  std::vector<int64_t> packed = sample_shape;
  packed[0] *= m;
  return packed;
}

// In plain row-major layout the m samples of a packed input are already contiguous, so packing
// only renames the shape.
std::vector<int64_t> Pack::out_shape(const std::vector<int64_t>& in) const {
  if (in.size() < 2 || in[0] % m_ != 0)
    throw Error(fmt::format("{} needs a batch that is a multiple of {}, got input {}", describe(), m_, shape_string(in)));
  std::vector<int64_t> shape{in[0] / m_};
  const std::vector<int64_t> packed = packed_sample_shape({in.begin() + 1, in.end()}, m_);
  shape.insert(shape.end(), packed.begin(), packed.end());
  return shape;
}

}  // namespace gantry
