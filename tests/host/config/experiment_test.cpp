#include "config/experiment.hpp"

#include "support/experiments.hpp"
#include "support/plugins.hpp"

#include <gantry/error.hpp>
#include <gantry/params.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace gantry {
namespace {

const char* const minimal = test::minimal_sections;

std::string error_of(const std::string& text) {
  try {
    parse_experiment(text, "x.toml", test::builtin_registry());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Experiment, DefaultsAreFilledIn) {
  const Experiment e = parse_experiment(minimal, "dir/first.toml", test::builtin_registry());
  EXPECT_EQ(e.name, "first");
  EXPECT_EQ(e.seeds, std::vector<uint64_t>{0});
  EXPECT_EQ(e.trials[0].config.data.plugin(), "ring8");
  EXPECT_DOUBLE_EQ(e.trials[0].config.data.params.real("std"), 0.01);
  EXPECT_EQ(e.trials[0].config.train.integer("steps"), 2000);
  EXPECT_DOUBLE_EQ(e.trials[0].config.optimizer.real("lr"), 2e-4);
}

TEST(Experiment, ValuesAreTypedAndIntegersWidenToReals) {
  const Experiment e = parse_experiment(std::string(minimal) + R"(
[experiment]
name = "named"
seeds = [3, 4]
[optimizer]
lr = 1
[metrics.modes]
threshold = 2.5
)", "x.toml", test::builtin_registry());
  EXPECT_EQ(e.name, "named");
  EXPECT_EQ(e.trials.size(), 2u);
  EXPECT_EQ(e.trials[1].config.seed, 4u);
  EXPECT_DOUBLE_EQ(e.trials[0].config.optimizer.real("lr"), 1.0);
  ASSERT_EQ(e.trials[0].config.metrics.size(), 1u);
  EXPECT_EQ(e.trials[0].config.metrics[0].section, "metrics.modes");
  EXPECT_DOUBLE_EQ(e.trials[0].config.metrics[0].params.real("threshold"), 2.5);
}

// compare and report default to the first metric's primary key: the first as written, though
// toml++ hands the tables over sorted (and trials keep that order, which their identity hashes).
TEST(Experiment, MetricPluginsInFileOrder) {
  const Experiment e = parse_experiment(std::string(minimal) + "[metrics.modes]\n[metrics.disc_accuracy]\n", "x.toml",
                                        test::builtin_registry());
  EXPECT_EQ(e.metric_plugins, (std::vector<std::string>{"modes", "disc_accuracy"}));
  EXPECT_EQ(e.trials[0].config.metrics[0].section, "metrics.disc_accuracy");
  EXPECT_TRUE(parse_experiment(minimal, "x.toml", test::builtin_registry()).metric_plugins.empty());
}

TEST(Experiment, LeavesAndIdentity) {
  const Experiment e = parse_experiment(minimal, "x.toml", test::builtin_registry());
  const auto leaves = config_leaves(e.trials[0].config);
  EXPECT_EQ(leaves[0].first, "data.plugin");
  EXPECT_EQ(std::get<std::string>(leaves[0].second), "ring8");
  const std::string id = trial_identity(e.trials[0].config);
  EXPECT_EQ(id.size(), 64u);
  EXPECT_EQ(id, trial_identity(parse_experiment(minimal, "other.toml", test::builtin_registry()).trials[0].config));
  TrialConfig other = e.trials[0].config;
  other.seed = 1;
  EXPECT_NE(trial_identity(other), id);
  other = e.trials[0].config;
  other.optimizer.set("lr", 1e-3);
  EXPECT_NE(trial_identity(other), id);
}

TEST(ExperimentErrors, SyntaxErrorHasLineAndColumn) {
  const std::string msg = error_of("[data]\nplugin = \"ring8\n");
  EXPECT_EQ(msg.rfind("x.toml:2:", 0), 0u) << msg;
}

TEST(ExperimentErrors, UnknownPluginListsWhatExists) {
  std::string text = minimal;
  text.replace(text.find("\"nonsaturating\""), 15, "\"wgan\"");
  EXPECT_EQ(error_of(text),
            "x.toml:9:10: unknown loss 'wgan' (available: hinge, least_squares, minimax, nonsaturating, "
            "ragan, rahinge, ralsgan, rsgan, wasserstein; did you mean: ragan, rsgan?)");
}

TEST(ExperimentErrors, UnknownParameterNamesPluginAndWhatItAccepts) {
  const std::string msg = error_of(std::string(minimal) + "[loss]\n");  // duplicate table
  EXPECT_NE(msg.find("x.toml:10:"), std::string::npos) << msg;
  std::string text = minimal;
  text.insert(text.find("[generator]"), "radius = 2.0\nsdt = 0.1\n");
  EXPECT_EQ(error_of(text), "x.toml:5:1: data 'ring8' has no parameter 'sdt' (accepts: modes, radius, std); did you mean 'std'?");
}

TEST(ExperimentErrors, WrongTypeAndOutOfRange) {
  std::string text = std::string(minimal) + "[train]\nsteps = 1.5\nbatch_size = 0\n";
  const std::string msg = error_of(text);
  EXPECT_NE(msg.find("x.toml:11:9: train.steps of [train]: expected integer, found real '1.5'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("x.toml:12:14: train.batch_size of [train]: 0 is out of range (expected range [1, 100000000])"),
            std::string::npos) << msg;
}

TEST(ExperimentErrors, AllProblemsAreReportedAtOnce) {
  const std::string text = R"([data]
plugin = "ring9"
[generator]
plugin = "mlp"
width = "wide"
[loss]
plugin = "minimax"
[optimizer]
lr = -1.0
[sweeps]
)";
  const std::string msg = error_of(text);
  EXPECT_NE(msg.find("x.toml:2:10: unknown data 'ring9' (available: fashion_mnist, grid25, image_folder, ring8, swissroll; did you mean: ring8?)"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("x.toml:5:9: generator.width of generator 'mlp': expected integer, found string 'wide'"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("x.toml:9:6: optimizer.lr of [optimizer]: -1.0 is out of range (expected >= 0)"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("x.toml:10:2: unknown section 'sweeps'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing section [discriminator] with plugin = one of: dcgan, mlp"), std::string::npos) << msg;
}

TEST(ExperimentErrors, StringChoicesAndMissingPluginKey) {
  std::string text = minimal;
  text.insert(text.find("[discriminator]"), "activation = \"gelu\"\n");
  EXPECT_NE(error_of(text).find("'gelu' is not allowed (expected one of: relu, leaky_relu, tanh, sigmoid)"),
            std::string::npos);
  EXPECT_NE(error_of("[data]\nradius = 1.0\n").find("[data] needs plugin = \"NAME\" (available: fashion_mnist, grid25, image_folder, ring8, swissroll)"),
            std::string::npos);
}

TEST(ExperimentErrors, UnknownMetric) {
  EXPECT_NE(error_of(std::string(minimal) + "[metrics.mode]\n").find("unknown metric 'mode' (available: disc_accuracy, image_quality, modes, pixel_quality; did you mean: modes?)"),
            std::string::npos);
}


// Schema-valid but wrong (issue 11): every one a message with its place, nothing accepted.
std::string with_experiment(const std::string& experiment_keys) {
  return "[experiment]\n" + experiment_keys + "\n" + minimal;
}

TEST(ExperimentHostile, NonFiniteRealsAreRefusedWherever) {
  EXPECT_EQ(error_of(std::string(minimal) + "[optimizer]\nlr = inf\n"),
            "x.toml:11:6: optimizer.lr of [optimizer]: inf is not a finite number — Adam learning rate for G and D");
  EXPECT_EQ(error_of(std::string(minimal) + "[train]\nr1_gamma = -inf\n"),
            "x.toml:11:12: train.r1_gamma of [train]: -inf is not a finite number — weight of the R1 penalty "
            "γ/2·‖∇x D(real)‖² added to any loss (Mescheder et al. 2018; 0 = off)");
  EXPECT_EQ(error_of(with_experiment("timeout = nan")),
            "x.toml:2:11: experiment.timeout of [experiment]: nan is not a finite number — seconds a trial may run "
            "before it is stopped and marked failed (0 = no limit)");
  std::string text = minimal;
  text.insert(text.find("[generator]"), "std = inf\n");
  EXPECT_EQ(error_of(text), "x.toml:4:7: data.std of data 'ring8': inf is not a finite number — standard deviation of each Gaussian");
}

TEST(ExperimentHostile, IntegerBeyondInt64IsASyntaxErrorWithItsPlace) {
  EXPECT_EQ(error_of(with_experiment("seeds = [9223372036854775808]")),
            "x.toml:2:29: Error while parsing decimal integer: '9223372036854775808' is not representable in 64 bits");
}

TEST(ExperimentHostile, CheckValueNeverShowsAnEmptyConstraint) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  EXPECT_EQ(std::get<std::string>(check_value(real_param("x", 0, ""), nan)), "nan is not a finite number");
  EXPECT_EQ(std::get<std::string>(check_value(real_param("x", 0, "", 0.0), inf)), "inf is not a finite number");
  const ParamSpec reals{"x", ParamType::real_list, std::vector<double>{}, "", {}, {}, {}};
  EXPECT_EQ(std::get<std::string>(check_value(reals, std::vector<double>{1, -inf})),
            "element -inf is not a finite number");
  EXPECT_EQ(std::get<std::string>(check_value(string_param("x", "", ""), std::string("a\0b", 3))),
            "contains a NUL character");
  EXPECT_EQ(std::get<std::string>(check_value(string_param("x", "", "", {"a"}), std::string("a\0", 2))),
            "contains a NUL character");
  // Every kind of spec against every kind of bad value: whatever the message, no "()" or "expected )".
  const std::vector<ParamSpec> specs{real_param("r", 0, ""), real_param("r", 0, "", 0.0), real_param("r", 0, "", {}, 1.0),
                                     real_param("r", 0, "", 0.0, 1.0), integer_param("i", 0, ""), integer_param("i", 0, "", 0, 9),
                                     integer_list_param("l", {}, "", 0, 9), string_param("s", "", "", {"a", "b"}),
                                     boolean_param("b", false, ""),
                                     ParamSpec{"rl", ParamType::real_list, std::vector<double>{}, "", {}, {}, {}}};
  const std::vector<ParamValue> values{nan, inf, -inf, -5.0, int64_t{-5}, int64_t{99}, std::string(), std::string("c"),
                                       std::vector<double>{nan}, std::vector<int64_t>{-1}, true};
  for (const ParamSpec& spec : specs)
    for (const ParamValue& v : values) {
      const auto checked = check_value(spec, v);
      if (const auto* msg = std::get_if<std::string>(&checked)) {
        EXPECT_EQ(msg->find("()"), std::string::npos) << *msg;
        EXPECT_EQ(msg->find("expected )"), std::string::npos) << *msg;
        EXPECT_FALSE(msg->empty());
      }
    }
}

TEST(ExperimentHostile, NulCharactersAreRefusedInEveryName) {
  EXPECT_EQ(error_of(with_experiment("name = \"a\\u0000b\"")), "x.toml:2:8: experiment.name contains a NUL character");
  EXPECT_EQ(error_of(with_experiment("description = \"\\u0000\"")),
            "x.toml:2:15: experiment.description contains a NUL character");
  EXPECT_EQ(error_of(std::string(minimal) + "[optimizer]\n\"lr\\u0000\" = 1\n"),
            "x.toml:11:1: key \"lr\\u0000\" contains a NUL character");
  EXPECT_EQ(error_of(std::string(minimal) + "[\"da\\u0000ta\"]\n"), "x.toml:10:2: key \"da\\u0000ta\" contains a NUL character");
  EXPECT_EQ(error_of(std::string(minimal) + "[metrics.\"mo\\u0000des\"]\n"),
            "x.toml:10:10: key \"mo\\u0000des\" contains a NUL character");
  EXPECT_EQ(error_of(std::string(minimal) + "[sweep]\n\"optimizer.lr\\u0000\" = [1]\n"),
            "x.toml:11:1: key \"optimizer.lr\\u0000\" contains a NUL character");
  EXPECT_EQ(error_of(std::string(minimal) + "[sweep]\n\"loss.plugin\" = [\"hinge\", \"x\\u0000\"]\n"),
            "x.toml:11:27: sweep.loss.plugin[1] contains a NUL character");
}

TEST(ExperimentHostile, NameIsShortPrintableAndNotBlank) {
  EXPECT_EQ(error_of(with_experiment("name = \"" + std::string(1 << 20, 'n') + "\"")),
            "x.toml:2:8: experiment.name is 1048576 characters long, more than 200");
  EXPECT_EQ(error_of(with_experiment("name = \"" + std::string(200, 'n') + "\"")).substr(0, 8), "(no erro");
  EXPECT_EQ(error_of(with_experiment("name = \"\\u001b[2J\"")),
            "x.toml:2:8: experiment.name contains a control or text-direction character: it is shown in terminals and typed on command lines");
  EXPECT_EQ(error_of(with_experiment("name = \"a\\u009bb\"")).substr(0, 46), "x.toml:2:8: experiment.name contains a control");
  EXPECT_EQ(error_of(with_experiment("name = \"   \"")),
            "x.toml:2:8: experiment.name is blank: give a name or leave it out to use the file's name");
  // UTF-8 counts as characters, not bytes.
  EXPECT_EQ(error_of(with_experiment("name = \"" + std::string(199, 'x') + "é" + "\"")).substr(0, 8),
            "(no erro");
}

TEST(ExperimentHostile, NameFromTheFileIsCheckedToo) {
  try {
    parse_experiment(minimal, "dir/bad\x1b[2J.toml", test::builtin_registry());
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "dir/bad\\u001b[2J.toml:1:1: experiment.name contains a control or text-direction "
                                     "character: it is shown in terminals and typed on command lines (it is the file's "
                                     "name: set [experiment] name)");
  }
  EXPECT_EQ(parse_experiment(std::string("[experiment]\nname = \"ok\"\n") + minimal, "bad\x1b.toml",
                             test::builtin_registry()).name, "ok");
}

TEST(ExperimentHostile, TextDirectionOverridesLongStringsAndDates) {
  EXPECT_EQ(error_of(with_experiment("name = \"evil\\u202Egnp.exe\"")),
            "x.toml:2:8: experiment.name contains a control or text-direction character: it is shown in terminals and "
            "typed on command lines");
  std::string text = minimal;
  text.replace(text.find("\"nonsaturating\""), 15, fmt::format("\"{}\"", std::string(4097, 'x')));
  EXPECT_EQ(error_of(text), "x.toml:9:10: loss.plugin is 4097 bytes long, more than 4096");
  EXPECT_EQ(error_of(with_experiment("description = \"" + std::string(65537, 'd') + "\"")),
            "x.toml:2:15: experiment.description is 65537 bytes long, more than 65536");
  EXPECT_EQ(error_of(with_experiment("description = \"" + std::string(65536, 'd') + "\"")), "(no error)");
  EXPECT_EQ(error_of(std::string(minimal) + "[optimizer]\nlr = 1979-05-27\n"),
            "x.toml:11:6: optimizer.lr: expected a value, found a date or time");
}

TEST(ExperimentHostile, ControlCharactersAreEscapedInMessagesAndLongKeysRefused) {
  EXPECT_EQ(error_of(std::string(minimal) + "[optimizer]\n\"lr\\u001b[2J\" = 1\n"),
            "x.toml:11:1: [optimizer] has no key 'lr\\u001b[2J' (accepts: lr, beta1, beta2, eps, lr_decay); did you mean 'lr'?");
  EXPECT_EQ(error_of(std::string(minimal) + "[optimizer]\n" + std::string(201, 'k') + " = 1\n"),
            "x.toml:11:1: key is 201 bytes long, more than 200");
  EXPECT_EQ(printable("a\x7f\n\xc2\x9b\xc3\xa9"), "a\\u007f\\u000a\\u009bé");
  EXPECT_EQ(printable(std::string(10, 'x') + "é", 11), std::string(10, 'x') + "…");
}

TEST(ExperimentHostile, SeedsAreDistinctNonNegativeAndPresent) {
  EXPECT_EQ(error_of(with_experiment("seeds = [0, 1, 2, 1]")), "x.toml:2:19: experiment.seeds lists seed 1 more than once");
  EXPECT_EQ(error_of(with_experiment("seeds = [0, -1]")),
            "x.toml:2:9: experiment.seeds of [experiment]: element -1 is out of range (expected range [0, 9.2e+18]) — "
            "every sweep point runs once per seed");
  EXPECT_EQ(error_of(with_experiment("seeds = []")), "x.toml:2:9: experiment.seeds is empty: give at least one seed");
}

TEST(ExperimentHostile, ProblemsComeInFileOrderAndAreCapped) {
  std::string text = minimal;
  text += "[optimizer]\nlrr = 1\n[train]\nstepz = 1\n";
  const std::string msg = error_of(text);
  EXPECT_LT(msg.find("x.toml:11:"), msg.find("x.toml:13:")) << msg;
  std::string many = std::string(minimal) + "[optimizer]\n";
  for (int i = 0; i < 60; ++i) many += fmt::format("k{} = 1\n", i);
  const std::string capped = error_of(many);
  EXPECT_EQ(std::count(capped.begin(), capped.end(), '\n'), 50) << capped;
  EXPECT_TRUE(capped.ends_with("\n... and 10 more problems")) << capped;
}

TEST(ExperimentHostile, FileLargerThanTheLimitIsNotRead) {
  const auto path = std::filesystem::temp_directory_path() / "gantry-huge-experiment.toml";
  {
    std::ofstream out(path);
    out << std::string((16u << 20) + 1, '#');
  }
  try {
    load_experiment(path, test::builtin_registry());
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), path.string() + ": experiment file is larger than 16 MiB");
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace gantry
