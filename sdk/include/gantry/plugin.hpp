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
/// 2: Layer::buffers/couples_batch, Metric::notes. 3: build fingerprint in PluginEntry, metric
/// keys in the descriptor, Parameter's gradient private. 4: Layer's dual mode (supports_dual,
/// forward_dual, backward_dual), Critic without the finite-difference step;
/// Loss::generator_loss takes the G step's real logits (relativistic losses),
/// Loss::uses_real_logits_in_generator_step. 5: spectral norm in WeightedLayer (its layout),
/// WeightedLayer::buffers. 6: PluginDescriptor::needs (a study's shared resources). 7: class
/// conditioning: Model::label_slot, DataSource::num_classes/sample_labelled,
/// BuildContext::num_classes, EvalContext::generated_labels, MetricKey::conditional_only.
/// 8: Discriminator::pack (PacGAN), Critic's pack factor, MlpSpec::batch_norm, DataSource::notes.
/// 9: DataSource::state/set_state (checkpoints resume a source's position in its epoch),
/// StoredSamplesSource, and ShapeRenamingLayer as the base of Reshape and Pack.
/// 10: ProjectionHead's dual mode and spectral norm (its layout), check_pack_is_unconditional.
inline constexpr uint32_t abi_version = 10;

enum class PluginKind { data, generator, discriminator, loss, metric };
GANTRY_API const char* to_string(PluginKind kind);

/// The host's build fingerprint (GANTRY_BUILD_FINGERPRINT as the SDK was compiled).
GANTRY_API const char* build_fingerprint();

enum class Direction { higher_is_better, lower_is_better };

/// One value a metric reports; stored as "<metric>.<name>".
struct MetricKey {
  std::string name;
  Direction direction = Direction::higher_is_better;
  std::string doc;
  /// Only class-conditional trials ([train] conditional) record it; an unconditional trial's value
  /// (which the metric still returns, e.g. NaN) is dropped, so such runs keep exactly their rows.
  bool conditional_only = false;
};

/// What a factory knows besides its parameters.
struct BuildContext {
  std::vector<int64_t> sample_shape;  ///< one data sample's shape, e.g. {2} or {1, 28, 28}
  uint64_t seed = 0;                  ///< for initialisation; derived from the trial's seed
  /// [train] conditional: the data's classes, which G and D must condition on (their label_slot()
  /// with this many classes); 0 for an unconditional trial.
  int64_t num_classes = 0;
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
  // Default member initialisers: descriptors of other kinds may leave these out of their braces.
  std::vector<MetricKey> metric_keys{};  ///< metrics only: what evaluate() returns, in order
  std::string primary_key{};             ///< metrics only: the key compare and report default to
  /// What gantry must prepare once per study before any trial runs, so that every trial (and
  /// every machine) shares it. Known: "reference_classifier" (the image metrics' feature network;
  /// the plugin's string parameter `path`, when it has one, names the Fashion-MNIST folder).
  std::vector<std::string> needs{};
};

/// The values PluginDescriptor::needs may hold.
inline constexpr const char* known_needs[] = {"reference_classifier"};

/// The one symbol a plugin exports. A plain struct whose first member is the ABI version, so the
/// host can read the version before it touches anything else; then the fingerprint (a C string,
/// no STL) before it calls anything that depends on the SDK's layout.
struct PluginEntry {
  uint32_t abi_version;
  const char* build_fingerprint;  ///< GANTRY_BUILD_FINGERPRINT as the plugin was compiled
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

// What must match between host and plugin besides the ABI number: the boundary passes STL types
// and vtables, whose layout depends on the SDK, the compiler and libstdc++'s dual string ABI.
// Evaluated in each translation unit, so a plugin carries the values it was compiled with.
#define GANTRY_STRINGIFY_IMPL(x) #x
#define GANTRY_STRINGIFY(x) GANTRY_STRINGIFY_IMPL(x)
#ifndef GANTRY_VERSION
#define GANTRY_VERSION "unknown"  // set by the gantry::sdk target; without it nothing matches
#endif
#if defined(__clang__)
#define GANTRY_FINGERPRINT_COMPILER "Clang " GANTRY_STRINGIFY(__clang_major__)
#elif defined(__GNUC__)
#define GANTRY_FINGERPRINT_COMPILER "GCC " GANTRY_STRINGIFY(__GNUC__)
#else
#define GANTRY_FINGERPRINT_COMPILER "unknown compiler"
#endif
#if defined(_GLIBCXX_USE_CXX11_ABI)
#define GANTRY_FINGERPRINT_STDLIB "libstdc++ cxx11 ABI " GANTRY_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#elif defined(_LIBCPP_VERSION)
#define GANTRY_FINGERPRINT_STDLIB "libc++ " GANTRY_STRINGIFY(_LIBCPP_ABI_VERSION)
#else
#define GANTRY_FINGERPRINT_STDLIB "unknown standard library"
#endif
#ifndef GANTRY_BUILD_FINGERPRINT
/// "gantry 0.1.0; GCC 12; libstdc++ cxx11 ABI 1"
#define GANTRY_BUILD_FINGERPRINT \
  "gantry " GANTRY_VERSION "; " GANTRY_FINGERPRINT_COMPILER "; " GANTRY_FINGERPRINT_STDLIB
#endif

/// Exports a plugin: `describe_fn` returns its PluginDescriptor (called once, then cached).
#define GANTRY_PLUGIN(describe_fn)                                                    \
  namespace gantry_plugin_export {                                                    \
  static const ::gantry::PluginDescriptor& cached_descriptor() {                      \
    static const ::gantry::PluginDescriptor descriptor = describe_fn();               \
    return descriptor;                                                                \
  }                                                                                   \
  static const ::gantry::PluginEntry* entry() {                                       \
    static const ::gantry::PluginEntry e{GANTRY_PLUGIN_ABI_VERSION, GANTRY_BUILD_FINGERPRINT, \
                                         &cached_descriptor};                         \
    return &e;                                                                        \
  }                                                                                   \
  }                                                                                   \
  BOOST_DLL_ALIAS(gantry_plugin_export::entry, gantry_plugin)
