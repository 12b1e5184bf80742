#include <gantry/data.hpp>
#include <gantry/error.hpp>

#include <fmt/format.h>

namespace gantry {

void sample_mixture(const ModeSet& modes, Rng& rng, Tensor& out) {
  const int64_t k = modes.centers.dim(0), d = modes.centers.dim(1);
  GANTRY_ASSERT(out.sample_size() == d);
  const auto sd = static_cast<float>(modes.stddev);
  for (int64_t i = 0; i < out.dim(0); ++i) {
    const int64_t m = static_cast<int64_t>(rng.below(static_cast<uint64_t>(k)));
    for (int64_t j = 0; j < d; ++j)
      out[i * d + j] = modes.centers[m * d + j] + sd * static_cast<float>(rng.normal());
  }
}

void DataSource::set_state(std::string_view state) {
  if (!state.empty())
    throw Error(fmt::format("this data source keeps no state, but was given {} bytes of it", state.size()));
}

}  // namespace gantry
