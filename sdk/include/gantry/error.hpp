#pragma once
#include <gantry/api.hpp>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace gantry {

/// A user's, config's or plugin's mistake: printed as "gantry: error: ..." by the host.
class GANTRY_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A mistake in an experiment file or on the command line (exit code 2).
class GANTRY_API ConfigError : public Error {
 public:
  using Error::Error;
};

/// A plugin that cannot be loaded or that failed while running.
class GANTRY_API PluginError : public Error {
 public:
  using Error::Error;
};

[[noreturn]] inline void assertion_failed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "gantry: internal error: %s:%d: assertion '%s' failed\n", file, line, cond);
  std::abort();
}

}  // namespace gantry

/// A bug in gantry: abort with file, line and condition (kept in release builds).
#define GANTRY_ASSERT(cond) \
  ((cond) ? static_cast<void>(0) : ::gantry::assertion_failed(#cond, __FILE__, __LINE__))
