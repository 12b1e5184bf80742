#include <gantry/error.hpp>
#include <gantry/params.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace gantry {

ParamSpec boolean_param(std::string name, bool def, std::string doc) {
  return {std::move(name), ParamType::boolean, def, std::move(doc), {}, {}, {}};
}
ParamSpec integer_param(std::string name, int64_t def, std::string doc, std::optional<double> min,
                        std::optional<double> max) {
  return {std::move(name), ParamType::integer, def, std::move(doc), min, max, {}};
}
ParamSpec real_param(std::string name, double def, std::string doc, std::optional<double> min,
                     std::optional<double> max) {
  return {std::move(name), ParamType::real, def, std::move(doc), min, max, {}};
}
ParamSpec string_param(std::string name, std::string def, std::string doc,
                       std::vector<std::string> choices) {
  return {std::move(name), ParamType::string, std::move(def), std::move(doc), {}, {}, std::move(choices)};
}
ParamSpec integer_list_param(std::string name, std::vector<int64_t> def, std::string doc,
                             std::optional<double> min, std::optional<double> max) {
  return {std::move(name), ParamType::integer_list, std::move(def), std::move(doc), min, max, {}};
}

std::string_view type_name(ParamType type) {
  switch (type) {
    case ParamType::boolean: return "boolean";
    case ParamType::integer: return "integer";
    case ParamType::real: return "real";
    case ParamType::string: return "string";
    case ParamType::integer_list: return "list of integers";
    case ParamType::real_list: return "list of reals";
  }
  return "?";
}

ParamType type_of(const ParamValue& value) {
  static constexpr ParamType types[] = {ParamType::boolean, ParamType::integer,
                                        ParamType::real,    ParamType::string,
                                        ParamType::integer_list, ParamType::real_list};
  return types[value.index()];
}

namespace {

std::string real_text(double x) {
  // Shortest text that reads back to the same double, always marked as a real.
  std::string s = fmt::format("{}", x);
  if (std::isfinite(x) && s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

std::string number_text(double x) {
  return x == std::floor(x) && std::abs(x) < 1e15 ? fmt::format("{}", static_cast<int64_t>(x))
                                                   : fmt::format("{}", x);
}

}  // namespace

std::string to_string(const ParamValue& value) {
  struct Visitor {
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return fmt::format("{}", i); }
    std::string operator()(double d) const { return real_text(d); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const std::vector<int64_t>& v) const {
      return fmt::format("[{}]", fmt::join(v, ", "));
    }
    std::string operator()(const std::vector<double>& v) const {
      std::vector<std::string> parts;
      for (double d : v) parts.push_back(real_text(d));
      return fmt::format("[{}]", fmt::join(parts, ", "));
    }
  };
  return std::visit(Visitor{}, value);
}

std::string constraint_text(const ParamSpec& spec) {
  if (!spec.choices.empty()) return fmt::format("one of: {}", fmt::join(spec.choices, ", "));
  if (spec.min && spec.max) return fmt::format("range [{}, {}]", number_text(*spec.min), number_text(*spec.max));
  if (spec.min) return fmt::format(">= {}", number_text(*spec.min));
  if (spec.max) return fmt::format("<= {}", number_text(*spec.max));
  return "";
}

std::variant<ParamValue, std::string> check_value(const ParamSpec& spec, const ParamValue& value) {
  ParamValue v = value;
  // Lossless widening only: 1 for a real, [1, 2] for a list of reals, [] for any list.
  if (spec.type == ParamType::real && std::holds_alternative<int64_t>(v)) {
    v = static_cast<double>(std::get<int64_t>(v));
  } else if (spec.type == ParamType::real_list && std::holds_alternative<std::vector<int64_t>>(v)) {
    const auto& ints = std::get<std::vector<int64_t>>(v);
    v = std::vector<double>(ints.begin(), ints.end());
  }
  if (type_of(v) != spec.type) {
    return fmt::format("expected {}, found {} '{}'", type_name(spec.type), type_name(type_of(value)),
                       to_string(value));
  }
  // NaN fails every comparison and inf passes an open-ended range: neither is ever a meaningful
  // setting, so non-finite reals are refused before the range is looked at.
  auto in_range = [&](double x) { return (!spec.min || x >= *spec.min) && (!spec.max || x <= *spec.max); };
  auto out_of_range = [&](const std::string& found) {
    const std::string expected = constraint_text(spec);
    if (expected.empty()) return fmt::format("{} is out of range", found);  // a descriptor's NaN bound
    return fmt::format("{} is out of range (expected {})", found, expected);
  };
  auto not_finite = [](const std::string& found) { return fmt::format("{} is not a finite number", found); };
  switch (spec.type) {
    case ParamType::integer:
      if (!in_range(static_cast<double>(std::get<int64_t>(v)))) return out_of_range(to_string(v));
      break;
    case ParamType::real:
      if (!std::isfinite(std::get<double>(v))) return not_finite(to_string(v));
      if (!in_range(std::get<double>(v))) return out_of_range(to_string(v));
      break;
    case ParamType::integer_list:
      for (int64_t x : std::get<std::vector<int64_t>>(v))
        if (!in_range(static_cast<double>(x))) return out_of_range(fmt::format("element {}", x));
      break;
    case ParamType::real_list:
      for (double x : std::get<std::vector<double>>(v)) {
        if (!std::isfinite(x)) return not_finite(fmt::format("element {}", x));
        if (!in_range(x)) return out_of_range(fmt::format("element {}", x));
      }
      break;
    case ParamType::string:
      // A NUL would cut the text short wherever it becomes a C string (SQLite, file names, logs).
      if (std::get<std::string>(v).find('\0') != std::string::npos) return std::string("contains a NUL character");
      if (!spec.choices.empty()) {
        const auto& s = std::get<std::string>(v);
        if (std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end())
          return fmt::format("'{}' is not allowed (expected {})", s, constraint_text(spec));
      }
      break;
    case ParamType::boolean: break;
  }
  return v;
}

Params Params::defaults(const std::vector<ParamSpec>& schema) {
  Params p;
  for (const auto& spec : schema) p.set(spec.name, spec.default_value);
  return p;
}

const ParamValue& Params::get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw PluginError(fmt::format("parameter '{}' was not resolved", name));
  return it->second;
}

namespace {
template <class T>
const T& typed(const Params& p, std::string_view name) {
  const ParamValue& v = p.get(name);
  if (!std::holds_alternative<T>(v))
    throw PluginError(fmt::format("parameter '{}' holds {} '{}'", name, type_name(type_of(v)), to_string(v)));
  return std::get<T>(v);
}
}  // namespace

bool Params::boolean(std::string_view name) const { return typed<bool>(*this, name); }
int64_t Params::integer(std::string_view name) const { return typed<int64_t>(*this, name); }
double Params::real(std::string_view name) const { return typed<double>(*this, name); }
const std::string& Params::string(std::string_view name) const { return typed<std::string>(*this, name); }
const std::vector<int64_t>& Params::integers(std::string_view name) const {
  return typed<std::vector<int64_t>>(*this, name);
}

}  // namespace gantry
