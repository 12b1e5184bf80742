#include <gantry/data.hpp>
#include <gantry/error.hpp>
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

void check_pack_is_unconditional(int64_t pack, int64_t num_classes) {
  if (pack > 1 && num_classes > 0)
    throw ConfigError("pack > 1 does not combine with class conditioning (one packed input holds samples of several "
                      "classes)");
}

const char* build_fingerprint() { return GANTRY_BUILD_FINGERPRINT; }

}  // namespace gantry
