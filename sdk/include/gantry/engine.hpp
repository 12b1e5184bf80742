#pragma once
#include <gantry/api.hpp>

#include <oneapi/dnnl/dnnl.hpp>

namespace gantry {

/// The process's one oneDNN CPU engine.
GANTRY_API dnnl::engine& engine();
/// The process's one in-order oneDNN stream.
GANTRY_API dnnl::stream& stream();
/// Sets the number of threads oneDNN's primitives use (OpenMP runtime).
GANTRY_API void set_num_threads(int threads);
GANTRY_API int num_threads();
/// gantry's version string ("0.1.0").
GANTRY_API const char* version();
/// The compiler gantry was built with ("GCC 12.2.0").
GANTRY_API const char* compiler();

}  // namespace gantry
