#include "check/check_settings.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <optional>

namespace gantry {

namespace {

std::optional<int64_t> parse_integer(std::string_view text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_real(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

// A number list "[1, 2]" (brackets optional). Integers stay integers unless one element is not.
std::optional<ParamValue> parse_list(std::string_view text) {
  if (text.starts_with('[') && text.ends_with(']')) text = text.substr(1, text.size() - 2);
  std::vector<int64_t> ints;
  std::vector<double> reals;
  bool all_ints = true;
  while (!trim(text).empty()) {
    const size_t comma = text.find(',');
    const std::string item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto i = parse_integer(item);
    const auto r = i ? std::optional<double>(static_cast<double>(*i)) : parse_real(item);
    if (!r) return std::nullopt;
    all_ints = all_ints && i.has_value();
    if (i) ints.push_back(*i);
    reals.push_back(*r);
  }
  if (all_ints) return ParamValue(ints);
  return ParamValue(reals);
}

// The text as the spec's type where it reads as one; otherwise as what it looks like, so that
// check_value's message says what was expected and what was found.
std::optional<ParamValue> parse_value(const ParamSpec& spec, const std::string& text) {
  switch (spec.type) {
    case ParamType::string:
      return ParamValue(text);
    case ParamType::integer_list:
    case ParamType::real_list:
      return parse_list(text);
    default:
      break;
  }
  if (text == "true" || text == "false") return ParamValue(text == "true");
  if (const auto i = parse_integer(text)) return ParamValue(*i);
  if (const auto r = parse_real(text)) return ParamValue(*r);
  return std::nullopt;
}

const ParamSpec* find_spec(const PluginDescriptor& d, std::string_view name) {
  for (const ParamSpec& s : d.params)
    if (s.name == name) return &s;
  return nullptr;
}

std::string parameter_list(const PluginDescriptor& d) {
  if (d.params.empty()) return "it has no parameters";
  std::vector<std::string> names;
  for (const ParamSpec& s : d.params) names.push_back(s.name);
  return fmt::format("its parameters: {}", fmt::join(names, ", "));
}

}  // namespace

Params apply_sets(const PluginDescriptor& descriptor, const std::vector<std::string>& sets) {
  return apply_sets(descriptor, Params::defaults(descriptor.params), sets);
}

Params apply_sets(const PluginDescriptor& descriptor, Params params, const std::vector<std::string>& sets) {
  std::vector<std::string> seen;
  for (const std::string& set : sets) {
    const size_t eq = set.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError(fmt::format("--set {}: expected key=value", set));
    const std::string key = set.substr(0, eq), text = set.substr(eq + 1);
    const ParamSpec* spec = find_spec(descriptor, key);
    if (spec == nullptr)
      throw ConfigError(fmt::format("--set {}: {} '{}' has no parameter '{}' ({})", set, to_string(descriptor.kind),
                                    descriptor.name, key, parameter_list(descriptor)));
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      throw ConfigError(fmt::format("--set {}: '{}' is set twice", set, key));
    seen.push_back(key);
    const auto value = parse_value(*spec, text);
    if (!value)
      throw ConfigError(fmt::format("--set {}: '{}' is not a {} value", set, text, type_name(spec->type)));
    auto checked = check_value(*spec, *value);
    if (auto* message = std::get_if<std::string>(&checked))
      throw ConfigError(fmt::format("--set {}: {}", set, *message));
    params.set(key, std::get<ParamValue>(std::move(checked)));
  }
  return params;
}

namespace {

// One end of a numeric parameter's range: the declared bound, or default ∓ 10·max(1, |default|).
std::pair<double, std::string> range_end(const ParamSpec& spec, bool upper) {
  const std::optional<double>& bound = upper ? spec.max : spec.min;
  if (bound) return {*bound, upper ? "its max" : "its min"};
  const double def = spec.type == ParamType::integer ? static_cast<double>(std::get<int64_t>(spec.default_value))
                                                     : std::get<double>(spec.default_value);
  const double reach = 10.0 * std::max(1.0, std::abs(def));
  return {upper ? def + reach : def - reach,
          fmt::format("no {} declared: default {} 10·max(1, |default|)", upper ? "max" : "min", upper ? "+" : "-")};
}

std::string base_name(const Params& base, const std::vector<std::string>& sets) {
  if (sets.empty()) return "defaults";
  std::vector<std::string> parts;
  for (const std::string& set : sets) {
    const std::string key = set.substr(0, set.find('='));
    parts.push_back(fmt::format("{}={}", key, to_string(base.get(key))));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

// Numeric parameters not fixed by --set: the ones whose range ends are checked.
std::vector<const ParamSpec*> movable(const PluginDescriptor& descriptor, const std::vector<std::string>& sets) {
  std::vector<const ParamSpec*> out;
  for (const ParamSpec& spec : descriptor.params) {
    if (spec.type != ParamType::integer && spec.type != ParamType::real) continue;
    if (std::none_of(sets.begin(), sets.end(), [&](const std::string& s) { return s.substr(0, s.find('=')) == spec.name; }))
      out.push_back(&spec);
  }
  return out;
}

}  // namespace

std::vector<std::string> unbounded_parameters(const PluginDescriptor& descriptor, const std::vector<std::string>& sets) {
  std::vector<std::string> names;
  for (const ParamSpec* spec : movable(descriptor, sets))
    if (!spec->min && !spec->max) names.push_back(spec->name);
  return names;
}

std::vector<CheckSetting> check_settings(const PluginDescriptor& descriptor, const Params& base,
                                         const std::vector<std::string>& sets, bool range_ends) {
  std::vector<CheckSetting> settings{{base_name(base, sets), "", base}};
  if (!range_ends) return settings;
  for (const ParamSpec* p : movable(descriptor, sets)) {
    const ParamSpec& spec = *p;
    if (!spec.min && !spec.max) continue;  // no scale to go by: see unbounded_parameters
    for (bool upper : {false, true}) {
      const auto [end, why] = range_end(spec, upper);
      const ParamValue value =
          spec.type == ParamType::integer ? ParamValue(static_cast<int64_t>(std::round(end))) : ParamValue(end);
      if (value == base.get(spec.name)) continue;
      CheckSetting s{fmt::format("{}={}", spec.name, to_string(value)), why, base};
      s.params.set(spec.name, value);
      settings.push_back(std::move(s));
    }
  }
  return settings;
}

}  // namespace gantry
