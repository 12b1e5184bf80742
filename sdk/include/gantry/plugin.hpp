#pragma once
#include <gantry/api.hpp>
#include <gantry/params.hpp>

#include <boost/dll/alias.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gantry {

/// Bumped whenever the plugin interfaces change; the host refuses plugins built for another.
/// 2: Layer::buffers/couples_batch, Metric::notes.
inline constexpr uint32_t abi_version = 2;

enum class PluginKind { data, generator, discriminator, loss, metric };
GANTRY_API const char* to_string(PluginKind kind);

/// What a factory knows besides its parameters.
struct BuildContext {
  std::vector<int64_t> sample_shape;  ///< one data sample's shape, e.g. {2} or {1, 28, 28}
  uint64_t seed = 0;                  ///< for initialisation; derived from the trial's seed
};

/// Base of every object a plugin makes.
class GANTRY_API Plugin {
 public:
  virtual ~Plugin();
};

using Factory = std::function<std::unique_ptr<Plugin>(const Params&, const BuildContext&)>;

/// What a plugin library declares about itself.
struct PluginDescriptor {
  PluginKind kind;
  std::string name;
  std::string version;
  std::string description;
  std::vector<ParamSpec> params;
  Factory factory;
};

/// The one symbol a plugin exports. A plain struct whose first member is the ABI version, so the
/// host can read the version before it calls anything that depends on the SDK's layout.
struct PluginEntry {
  uint32_t abi_version;
  const PluginDescriptor& (*describe)();
};

/// A factory for a plugin class constructed from (const Params&, const BuildContext&).
template <class T>
Factory factory_of() {
  return [](const Params& params, const BuildContext& ctx) -> std::unique_ptr<Plugin> {
    return std::make_unique<T>(params, ctx);
  };
}

}  // namespace gantry

#ifndef GANTRY_PLUGIN_ABI_VERSION
#define GANTRY_PLUGIN_ABI_VERSION ::gantry::abi_version
#endif

/// Exports a plugin: `describe_fn` returns its PluginDescriptor (called once, then cached).
#define GANTRY_PLUGIN(describe_fn)                                                    \
  namespace gantry_plugin_export {                                                    \
  static const ::gantry::PluginDescriptor& cached_descriptor() {                      \
    static const ::gantry::PluginDescriptor descriptor = describe_fn();               \
    return descriptor;                                                                \
  }                                                                                   \
  static const ::gantry::PluginEntry* entry() {                                       \
    static const ::gantry::PluginEntry e{GANTRY_PLUGIN_ABI_VERSION, &cached_descriptor}; \
    return &e;                                                                        \
  }                                                                                   \
  }                                                                                   \
  BOOST_DLL_ALIAS(gantry_plugin_export::entry, gantry_plugin)
