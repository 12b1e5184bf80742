#pragma once
#include <gantry/plugin.hpp>

#include <string>
#include <vector>

namespace gantry {

/// One setting of a loss's parameters that `gantry check` checks.
struct CheckSetting {
  std::string name;  ///< "defaults", "weight=0.5" (--set), or the one parameter moved: "margin=-10"
  std::string why;   ///< "", "its min", "no max declared: default + 10·max(1, |default|)"
  Params params;
};

/// The descriptor's defaults with `sets` ("key=value", each key at most once) applied. Values are
/// read as the parameter's declared type and checked against its range or choices. Throws
/// ConfigError naming the option: an unknown key lists the plugin's parameters, a value out of
/// range shows the range.
Params apply_sets(const PluginDescriptor& descriptor, const std::vector<std::string>& sets);
/// The same, starting from `base` (resolved against the same descriptor) instead of the defaults.
Params apply_sets(const PluginDescriptor& descriptor, Params base, const std::vector<std::string>& sets);

/// The settings to check: `base` first, then, unless !range_ends, each numeric parameter not given
/// by --set at each end of its declared range, one parameter at a time (the others as in base).
/// When only one end is declared, the other is taken at default ∓ 10·max(1, |default|) (integers
/// rounded); an end equal to the base value is not repeated. A parameter with no bound at all
/// stays at its base value (unbounded_parameters lists them).
std::vector<CheckSetting> check_settings(const PluginDescriptor& descriptor, const Params& base,
                                         const std::vector<std::string>& sets, bool range_ends);

/// The numeric parameters, not given by --set, that declare neither min nor max: their scale is
/// unknown (e.g. least_squares' targets, logit values that mean something only relative to each
/// other), so no value is guessed for them.
std::vector<std::string> unbounded_parameters(const PluginDescriptor& descriptor, const std::vector<std::string>& sets);

}  // namespace gantry
