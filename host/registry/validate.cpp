// Descriptor validation at load: a plugin's static data is checked once, where its file is known,
// instead of failing later in a config check, a trial or a SQLite constraint.
#include "registry/registry.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <set>
#include <variant>

namespace gantry {
namespace {

constexpr int plugin_kinds = 5;  // PluginKind::data .. PluginKind::metric
constexpr int param_types = 6;   // ParamType::boolean .. ParamType::real_list

// Plugin names become file-independent identifiers in TOML sections and database rows.
bool valid_plugin_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Parameter and metric key names are TOML bare keys and parts of dotted database keys.
bool valid_identifier(std::string_view s) {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  return !s.empty() && alpha(s[0]) &&
         std::all_of(s.begin() + 1, s.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

std::string number(double x) { return fmt::format("{}", x); }

class Validator {
 public:
  Validator(const PluginDescriptor& d, const std::filesystem::path& file)
      : d_(d), where_(fmt::format("plugin '{}'", file.string())) {}

  void run() {
    const int kind = static_cast<int>(d_.kind);
    if (kind < 0 || kind >= plugin_kinds)
      fail(fmt::format("unknown plugin kind {} (expected 0 to 4: data, generator, discriminator, loss, metric)", kind));
    if (d_.name.empty()) fail("descriptor has an empty name");
    if (!valid_plugin_name(d_.name))
      fail(fmt::format("name '{}' has characters outside [A-Za-z0-9_-]", ascii_printable(d_.name)));
    what_ = fmt::format("{} '{}'", to_string(d_.kind), d_.name);
    if (!d_.factory) fail(fmt::format("{} has no factory", what_));
    // The trainer records its own curves as "loss.d", "loss.g": a metric of that name would
    // write over them.
    if (d_.kind == PluginKind::metric && d_.name == "loss")
      fail("metric name 'loss' is reserved for the trainer's loss curves");
    check_text("version", d_.version, 64);
    check_text("description", d_.description, 1000);
    std::set<std::string_view> seen;
    for (size_t i = 0; i < d_.params.size(); ++i) {
      const ParamSpec& p = d_.params[i];
      if (p.name.empty()) fail(fmt::format("{}: parameter {} has an empty name", what_, i + 1));
      if (!valid_identifier(p.name))
        fail(fmt::format("{}: parameter '{}' is not a valid name (expected [A-Za-z_][A-Za-z0-9_]*)", what_,
                         ascii_printable(p.name)));
      if (p.name == "plugin")
        fail(fmt::format("{}: parameter 'plugin' is reserved (the key that chooses the plugin)", what_));
      if (!seen.insert(p.name).second) fail(fmt::format("{}: parameter '{}' is declared twice", what_, p.name));
      check_param(p);
    }
    if (d_.kind == PluginKind::metric) check_metric();
    else if (!d_.metric_keys.empty() || !d_.primary_key.empty())
      fail(fmt::format("{} declares metric keys (only metrics have keys)", what_));
    check_needs();
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const { throw PluginError(fmt::format("{}: {}", where_, msg)); }

  // Text that gantry prints and stores: no control characters (a terminal would obey them, a
  // NUL would cut it short in the database), and not a screenful.
  void check_text(const std::string& what, const std::string& text, size_t max_bytes) const {
    if (text.size() > max_bytes)
      fail(fmt::format("{}: {} is {} bytes long, at most {} allowed", what_, what, text.size(), max_bytes));
    for (char c : text)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        fail(fmt::format("{}: {} '{}' holds a control character", what_, what, ascii_printable(text, 60)));
  }

  void check_choices(const ParamSpec& p, const std::string& at) const {
    std::set<std::string_view> seen;
    for (const std::string& c : p.choices) {
      check_text(fmt::format("parameter '{}' choice", p.name), c, 200);
      if (c.empty()) fail(fmt::format("{}: has an empty choice", at));
      if (!seen.insert(c).second) fail(fmt::format("{}: choice '{}' is listed twice", at, c));
    }
  }

  void check_param(const ParamSpec& p) const {
    const std::string at = fmt::format("{}: parameter '{}'", what_, p.name);
    check_text(fmt::format("parameter '{}' doc", p.name), p.doc, 1000);
    check_choices(p, at);
    const bool integral = p.type == ParamType::integer || p.type == ParamType::integer_list;
    for (const auto& bound : {p.min, p.max})
      if (integral && bound && std::isfinite(*bound) && *bound != std::floor(*bound))
        fail(fmt::format("{}: bound {} of an integer parameter is not a whole number", at, number(*bound)));
    const int type = static_cast<int>(p.type);
    if (type < 0 || type >= param_types) fail(fmt::format("{}: unknown type {}", at, type));
    if (p.min && !std::isfinite(*p.min)) fail(fmt::format("{}: min is {}, expected a finite number", at, number(*p.min)));
    if (p.max && !std::isfinite(*p.max)) fail(fmt::format("{}: max is {}, expected a finite number", at, number(*p.max)));
    if (p.min && p.max && *p.min > *p.max)
      fail(fmt::format("{}: min {} is above max {}", at, number(*p.min), number(*p.max)));
    if (!p.choices.empty() && p.type != ParamType::string)
      fail(fmt::format("{}: choices given for a {} (only strings have choices)", at, type_name(p.type)));
    if (const auto* x = std::get_if<double>(&p.default_value); x != nullptr && !std::isfinite(*x))
      fail(fmt::format("{}: default is {}, expected a finite number", at, number(*x)));
    if (const auto* v = std::get_if<std::vector<double>>(&p.default_value))
      for (double x : *v)
        if (!std::isfinite(x)) fail(fmt::format("{}: default has element {}, expected finite numbers", at, number(x)));
    const auto checked = check_value(p, p.default_value);
    if (const auto* msg = std::get_if<std::string>(&checked)) fail(fmt::format("{}: default: {}", at, *msg));
  }

  void check_needs() const {
    for (const std::string& need : d_.needs)
      if (std::find_if(std::begin(known_needs), std::end(known_needs), [&](const char* k) { return need == k; }) ==
          std::end(known_needs))
        fail(fmt::format("{} needs '{}', which gantry does not provide (known: {})", what_, ascii_printable(need),
                         fmt::join(known_needs, ", ")));
  }

  void check_metric() const {
    if (d_.metric_keys.empty()) fail(fmt::format("{} declares no metric keys", what_));
    std::set<std::string_view> seen;
    std::vector<std::string> names;
    for (const MetricKey& k : d_.metric_keys) {
      if (!valid_identifier(k.name))
        fail(fmt::format("{}: metric key '{}' is not a valid name (expected [A-Za-z_][A-Za-z0-9_]*)", what_,
                         ascii_printable(k.name)));
      if (!seen.insert(k.name).second) fail(fmt::format("{}: metric key '{}' is declared twice", what_, k.name));
      check_text(fmt::format("metric key '{}' doc", k.name), k.doc, 1000);
      const int dir = static_cast<int>(k.direction);
      if (dir != static_cast<int>(Direction::higher_is_better) && dir != static_cast<int>(Direction::lower_is_better))
        fail(fmt::format("{}: metric key '{}' has unknown direction {}", what_, k.name, dir));
      names.push_back(k.name);
    }
    if (d_.primary_key.empty())
      fail(fmt::format("{} names no primary key (expected one of: {})", what_, fmt::join(names, ", ")));
    if (!seen.count(d_.primary_key))
      fail(fmt::format("{}: primary key '{}' is not one of its keys ({})", what_, ascii_printable(d_.primary_key),
                       fmt::join(names, ", ")));
  }

  const PluginDescriptor& d_;
  std::string where_;
  std::string what_;
};

}  // namespace

void validate_descriptor(const PluginDescriptor& descriptor, const std::filesystem::path& file) {
  Validator(descriptor, file).run();
}

}  // namespace gantry
