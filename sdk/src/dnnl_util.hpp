#pragma once
// Private helpers shared by the layer implementations.
#include <gantry/engine.hpp>
#include <gantry/tensor.hpp>

#include <oneapi/dnnl/dnnl.hpp>

namespace gantry::detail {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

/// A plain (row-major) f32 descriptor for any rank from 1 to 5.
inline dnnl::memory::desc plain_md(const std::vector<int64_t>& shape) {
  static const tag tags[] = {tag::a, tag::ab, tag::abc, tag::abcd, tag::abcde};
  return dnnl::memory::desc(dnnl::memory::dims(shape.begin(), shape.end()), dt::f32,
                            tags[shape.size() - 1]);
}

/// The same dimensions with the layout left to the primitive (format `any`).
inline dnnl::memory::desc any_md(const dnnl::memory::desc& md) {
  return dnnl::memory::desc(md.dims(), md.data_type(), tag::any);
}

/// Whether a convolution should let oneDNN pick blocked layouts. Its blocked kernels pad channels
/// to vectors of 16: with a single-channel image on either side (G's last layer, D's first) they
/// ran 5-8× slower than the GEMM-based kernels on plain layouts (ONEDNN_VERBOSE, dcgan bench).
inline bool prefers_blocked(int64_t in_channels, int64_t out_channels) {
  return in_channels >= 16 && out_channels >= 16;
}

/// Channels per vector of the CPU's widest ISA that oneDNN uses: 16 with AVX-512, else 8 (the
/// block of its JIT kernels' nChw16c / nChw8c layouts).
inline int64_t channel_block() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto avx512 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
  return (isa & avx512) == avx512 ? 16 : 8;
}

/// A memory object over a buffer we own; the handle is re-pointed per call when it can move.
inline dnnl::memory wrap(const dnnl::memory::desc& md, const float* data) {
  return dnnl::memory(md, engine(), const_cast<float*>(data));
}

}  // namespace gantry::detail

namespace gantry::detail {
/// What backward() returns when the input gradient was not asked for.
const Tensor& empty_tensor();
}  // namespace gantry::detail
