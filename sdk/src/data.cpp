#include <gantry/data.hpp>
#include <gantry/error.hpp>

#include <fmt/format.h>

namespace gantry {

void DataSource::sample_labelled(Rng& /*rng*/, Tensor& /*out*/, std::span<int32_t> /*labels*/) {
  throw Error("this data source has no class labels");
}

void sample_mixture(const ModeSet& modes, Rng& rng, Tensor& out, std::span<int32_t> labels) {
  const int64_t k = modes.centers.dim(0), d = modes.centers.dim(1);
  GANTRY_ASSERT(out.sample_size() == d);
  GANTRY_ASSERT(labels.empty() || static_cast<int64_t>(labels.size()) == out.dim(0));
  const auto sd = static_cast<float>(modes.stddev);
  for (int64_t i = 0; i < out.dim(0); ++i) {
    const int64_t m = static_cast<int64_t>(rng.below(static_cast<uint64_t>(k)));
    if (!labels.empty()) labels[static_cast<size_t>(i)] = static_cast<int32_t>(m);
    for (int64_t j = 0; j < d; ++j)
      out[i * d + j] = modes.centers[m * d + j] + sd * static_cast<float>(rng.normal());
  }
}

void DataSource::set_state(std::string_view state) {
  if (!state.empty())
    throw Error(fmt::format("this data source keeps no state, but was given {} bytes of it", state.size()));
}

}  // namespace gantry
