// gantry check's settings: --set values typed by the declared parameter, and the range ends.
#include "check/check_settings.hpp"

#include <gantry/error.hpp>

#include <gtest/gtest.h>

namespace gantry {
namespace {

PluginDescriptor tunable() {
  return {PluginKind::loss, "tunable", "0.0.1", "",
          {real_param("weight", 1.0, "", -1.0, 1.0), real_param("margin", 0.0, ""), integer_param("power", 2, "", 1, {}),
           real_param("shift", 0.0, "", {}, 5.0),
           string_param("mode", "a", "", {"a", "b"}), boolean_param("flag", false, "")},
          nullptr};
}

std::string set_error(const std::vector<std::string>& sets) {
  try {
    apply_sets(tunable(), sets);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CheckSettings, SetValuesAreReadAsTheDeclaredType) {
  const Params p = apply_sets(tunable(), {"weight=-1", "power=3", "mode=b", "flag=true", "margin=2.5e-1"});
  EXPECT_EQ(p.real("weight"), -1.0);  // an integer widened to the real parameter
  EXPECT_EQ(p.integer("power"), 3);
  EXPECT_EQ(p.string("mode"), "b");
  EXPECT_TRUE(p.boolean("flag"));
  EXPECT_EQ(p.real("margin"), 0.25);
}

TEST(CheckSettings, BadSetsAreRefusedNamingTheOption) {
  EXPECT_EQ(set_error({"nope=1"}),
            "--set nope=1: loss 'tunable' has no parameter 'nope' (its parameters: weight, margin, power, shift, mode, flag)");
  EXPECT_EQ(set_error({"weight=2"}), "--set weight=2: 2.0 is out of range (expected range [-1, 1])");
  EXPECT_EQ(set_error({"power=0"}), "--set power=0: 0 is out of range (expected >= 1)");
  EXPECT_EQ(set_error({"power=1.5"}), "--set power=1.5: expected integer, found real '1.5'");
  EXPECT_EQ(set_error({"mode=c"}), "--set mode=c: 'c' is not allowed (expected one of: a, b)");
  EXPECT_EQ(set_error({"weight=abc"}), "--set weight=abc: 'abc' is not a real value");
  EXPECT_EQ(set_error({"margin=inf"}), "--set margin=inf: inf is not a finite number");
  EXPECT_EQ(set_error({"weight"}), "--set weight: expected key=value");
  EXPECT_EQ(set_error({"weight=0.5", "weight=0.25"}), "--set weight=0.25: 'weight' is set twice");
}

TEST(CheckSettings, EachNumericParameterAtItsRangeEndsOneAtATime) {
  const PluginDescriptor d = tunable();
  const auto settings = check_settings(d, Params::defaults(d.params), {}, true);
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& s : settings) got.emplace_back(s.name, s.why);
  // weight's max is its default, so it is not repeated; power has no max: 2 + 10·2; shift no min:
  // 0 − 10; margin declares no bound at all, so it is not moved.
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::string>>{
                     {"defaults", ""},
                     {"weight=-1.0", "its min"},
                     {"power=1", "its min"},
                     {"power=22", "no max declared: default + 10·max(1, |default|)"},
                     {"shift=-10.0", "no min declared: default - 10·max(1, |default|)"},
                     {"shift=5.0", "its max"}}));
  EXPECT_EQ(settings[2].params.integer("power"), 1);
  EXPECT_EQ(settings[2].params.real("weight"), 1.0);  // the others stay at the base setting
  EXPECT_EQ(unbounded_parameters(d, {}), std::vector<std::string>{"margin"});
  EXPECT_TRUE(unbounded_parameters(d, {"margin=2"}).empty());
}

TEST(CheckSettings, SetParametersAreNotSweptAndNameTheBase) {
  const PluginDescriptor d = tunable();
  const std::vector<std::string> sets{"margin=3", "power=1"};
  const auto settings = check_settings(d, apply_sets(d, sets), sets, true);
  ASSERT_EQ(settings.size(), 4u);  // weight's min, shift's two ends
  EXPECT_EQ(settings[0].name, "margin=3.0, power=1");
  EXPECT_EQ(settings[1].name, "weight=-1.0");
  EXPECT_EQ(settings[1].params.real("margin"), 3.0);
  EXPECT_EQ(check_settings(d, apply_sets(d, sets), sets, false).size(), 1u);
}

}  // namespace
}  // namespace gantry
