#include <gantry/data.hpp>
#include <gantry/loss.hpp>
#include <gantry/metric.hpp>
#include <gantry/model.hpp>
#include <gantry/plugin.hpp>

namespace gantry {

// Out-of-line destructors anchor each interface's vtable and typeinfo in the SDK, so host and
// plugins agree on them (dynamic_cast across libraries).
Plugin::~Plugin() = default;

const char* to_string(PluginKind kind) {
  switch (kind) {
    case PluginKind::data: return "data";
    case PluginKind::generator: return "generator";
    case PluginKind::discriminator: return "discriminator";
    case PluginKind::loss: return "loss";
    case PluginKind::metric: return "metric";
  }
  return "?";
}

const char* build_fingerprint() { return GANTRY_BUILD_FINGERPRINT; }

}  // namespace gantry
