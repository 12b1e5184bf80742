#pragma once
// Loads the built-in plugins from the build tree, as gantry does, for tests.
#include "registry/registry.hpp"
#include "train/trainer.hpp"

#include <gantry/error.hpp>

#include <gtest/gtest.h>

namespace gantry::test {

inline Registry& builtin_registry() {
  static Registry registry = [] {
    Registry r;
    r.discover({GANTRY_TEST_PLUGIN_DIR});
    return r;
  }();
  return registry;
}

/// A resolved plugin section with the plugin's defaults, then `overrides`.
inline PluginChoice choice(PluginKind kind, const std::string& name,
                           const std::vector<std::pair<std::string, ParamValue>>& overrides = {}) {
  const PluginLibrary& lib = builtin_registry().get(kind, name);
  PluginChoice c{to_string(kind), &lib, Params::defaults(lib.descriptor->params)};
  for (const auto& [k, v] : overrides) c.params.set(k, v);
  return c;
}

template <class T>
std::unique_ptr<T> make(PluginKind kind, const std::string& name,
                        const std::vector<std::pair<std::string, ParamValue>>& overrides = {},
                        BuildContext ctx = {{2}, 0, 0}) {  // every field: GCC 12 left num_classes unset here
  return instantiate<T>(choice(kind, name, overrides), ctx);
}

}  // namespace gantry::test
