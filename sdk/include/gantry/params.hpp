#pragma once
#include <gantry/api.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gantry {

enum class ParamType { boolean, integer, real, string, integer_list, real_list };

using ParamValue =
    std::variant<bool, int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

/// One parameter a plugin accepts: its type, default, allowed range or choices, and a doc line.
struct ParamSpec {
  std::string name;
  ParamType type = ParamType::real;
  ParamValue default_value;
  std::string doc;
  std::optional<double> min;  ///< inclusive; for lists, applies to every element
  std::optional<double> max;  ///< inclusive
  std::vector<std::string> choices;  ///< for strings: the allowed values (empty = any)
};

GANTRY_API ParamSpec boolean_param(std::string name, bool def, std::string doc);
GANTRY_API ParamSpec integer_param(std::string name, int64_t def, std::string doc,
                                   std::optional<double> min = {}, std::optional<double> max = {});
GANTRY_API ParamSpec real_param(std::string name, double def, std::string doc,
                                std::optional<double> min = {}, std::optional<double> max = {});
GANTRY_API ParamSpec string_param(std::string name, std::string def, std::string doc,
                                  std::vector<std::string> choices = {});
GANTRY_API ParamSpec integer_list_param(std::string name, std::vector<int64_t> def, std::string doc,
                                        std::optional<double> min = {},
                                        std::optional<double> max = {});

GANTRY_API std::string_view type_name(ParamType type);
/// The type a value holds (an integer list for an empty list).
GANTRY_API ParamType type_of(const ParamValue& value);
/// Canonical text: integers plainly, reals round-trippable, lists as "[a, b]", strings bare.
GANTRY_API std::string to_string(const ParamValue& value);
/// "range [0, 1]", "one of: a, b", or "" when unconstrained.
GANTRY_API std::string constraint_text(const ParamSpec& spec);
/// Converts `value` to the spec's type where that is lossless (an integer for a real) and checks
/// the range and choices. Returns the converted value, or an error message (without location).
GANTRY_API std::variant<ParamValue, std::string> check_value(const ParamSpec& spec,
                                                             const ParamValue& value);

/// A plugin's resolved parameters: every parameter of its schema with a value of the right type.
class GANTRY_API Params {
 public:
  Params() = default;
  /// Every parameter at its default.
  static Params defaults(const std::vector<ParamSpec>& schema);

  void set(const std::string& name, ParamValue value) { values_[name] = std::move(value); }
  bool has(std::string_view name) const { return values_.find(name) != values_.end(); }
  const ParamValue& get(std::string_view name) const;
  bool boolean(std::string_view name) const;
  int64_t integer(std::string_view name) const;
  double real(std::string_view name) const;
  const std::string& string(std::string_view name) const;
  const std::vector<int64_t>& integers(std::string_view name) const;
  const std::map<std::string, ParamValue, std::less<>>& all() const { return values_; }

 private:
  std::map<std::string, ParamValue, std::less<>> values_;
};

}  // namespace gantry
