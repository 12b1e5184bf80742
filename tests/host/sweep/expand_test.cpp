// Sweep expansion: grid, random (seeded), cases, seeds; dotted paths; list-valued params untouched.
#include "config/experiment.hpp"

#include "support/experiments.hpp"
#include "support/plugins.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace gantry {
namespace {

const std::string base = std::string("\n[experiment]\nseeds = [0, 1]") + test::minimal_sections;

Experiment parse(const std::string& sweep) {
  return parse_experiment(base + sweep, "sweep.toml", test::builtin_registry());
}

std::string error_of(const std::string& sweep, uint64_t max_trials = default_max_trials) {
  try {
    parse_experiment(base + sweep, "sweep.toml", test::builtin_registry(), {max_trials});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Sweep, NoSweepIsOneTrialPerSeed) {
  const Experiment e = parse("");
  ASSERT_EQ(e.trials.size(), 2u);
  EXPECT_TRUE(e.sweep_columns.empty());
  EXPECT_EQ(e.trials[1].config.seed, 1u);
  EXPECT_NE(e.trials[0].identity, e.trials[1].identity);
}

TEST(Sweep, GridIsTheCartesianProductTimesSeeds) {
  const Experiment e = parse(R"(
[sweep]
"loss.plugin" = ["minimax", "nonsaturating", "wasserstein"]
"optimizer.lr" = [1e-4, 2e-4]
)");
  EXPECT_EQ(e.sweep_columns, (std::vector<std::string>{"loss.plugin", "optimizer.lr"}));
  ASSERT_EQ(e.trials.size(), 12u);
  EXPECT_EQ(e.trials[0].swept, (std::vector<std::string>{"minimax", "0.0001"}));
  EXPECT_EQ(e.trials[1].config.seed, 1u);  // seeds vary fastest
  EXPECT_EQ(e.trials[2].swept, (std::vector<std::string>{"minimax", "0.0002"}));
  EXPECT_EQ(e.trials[11].config.loss.plugin(), "wasserstein");
  EXPECT_DOUBLE_EQ(e.trials[11].config.optimizer.real("lr"), 2e-4);
  EXPECT_DOUBLE_EQ(e.trials[11].config.loss.params.real("clip"), 0.01);  // the plugin's own defaults
  std::set<std::string> ids;
  for (const Trial& t : e.trials) ids.insert(t.identity);
  EXPECT_EQ(ids.size(), 12u);
}

TEST(Sweep, ListValuedParametersAreValuesNotAxes) {
  // A list given in a section is one value; an axis of lists sweeps whole lists.
  const Experiment e = parse(R"(
[sweep]
"metrics.modes.threshold" = [2, 3.5]
"generator.width" = [8, 16]
)");
  ASSERT_EQ(e.trials.size(), 8u);
  EXPECT_DOUBLE_EQ(e.trials[0].config.metrics.at(0).params.real("threshold"), 2.0);
  EXPECT_EQ(e.trials[2].config.generator.params.integer("width"), 16);
  const Experiment seeds_only = parse_experiment(
      std::string(base).replace(base.find("seeds = [0, 1]"), 14, "seeds = [0, 1, 2]"), "s.toml", test::builtin_registry());
  EXPECT_EQ(seeds_only.trials.size(), 3u);  // the [experiment] seeds list is not a sweep axis
}

TEST(Sweep, CasesLinkSettingsAndCombineWithTheGrid) {
  const Experiment e = parse(R"(
[sweep]
"optimizer.lr" = [1e-4, 2e-4]
cases = [
  { "loss.plugin" = "nonsaturating" },
  { "loss.plugin" = "wasserstein", "train.n_critic" = 5, "loss.clip" = 0.05 },
]
)");
  ASSERT_EQ(e.trials.size(), 8u);
  EXPECT_EQ(e.sweep_columns, (std::vector<std::string>{"optimizer.lr", "loss.plugin", "train.n_critic", "loss.clip"}));
  EXPECT_EQ(e.trials[0].config.train.integer("n_critic"), 0);  // 0: the loss's own default
  EXPECT_EQ(e.trials[0].swept[2], "");
  EXPECT_EQ(e.trials[4].config.loss.plugin(), "wasserstein");
  EXPECT_EQ(e.trials[4].config.train.integer("n_critic"), 5);
  EXPECT_DOUBLE_EQ(e.trials[4].config.loss.params.real("clip"), 0.05);
}

TEST(Sweep, RandomSearchIsSeededAndInRange) {
  const std::string sweep = R"(
[sweep]
mode = "random"
trials = 20
seed = 7
"optimizer.lr" = { log_uniform = [1e-5, 1e-2] }
"optimizer.beta1" = { uniform = [0.0, 0.9] }
"generator.width" = { int = [16, 64] }
"loss.plugin" = ["minimax", "nonsaturating"]
)";
  const Experiment a = parse(sweep), b = parse(sweep);
  ASSERT_EQ(a.trials.size(), 40u);
  std::set<std::string> plugins;
  for (size_t i = 0; i < a.trials.size(); ++i) {
    EXPECT_EQ(a.trials[i].identity, b.trials[i].identity);
    const auto& c = a.trials[i].config;
    EXPECT_GE(c.optimizer.real("lr"), 1e-5);
    EXPECT_LE(c.optimizer.real("lr"), 1e-2);
    EXPECT_LE(c.optimizer.real("beta1"), 0.9);
    EXPECT_GE(c.generator.params.integer("width"), 16);
    EXPECT_LE(c.generator.params.integer("width"), 64);
    plugins.insert(c.loss.plugin());
  }
  EXPECT_EQ(plugins.size(), 2u);
  const Experiment other = parse(std::string(sweep).replace(sweep.find("seed = 7"), 8, "seed = 8"));
  EXPECT_NE(other.trials[0].identity, a.trials[0].identity);
}

TEST(Sweep, DuplicatePointsRunOnce) {
  const Experiment e = parse(R"(
[sweep]
"optimizer.lr" = [1e-4, 1e-4, 2e-4]
)");
  EXPECT_EQ(e.trials.size(), 4u);
  EXPECT_EQ(e.duplicates, 2u);
}

// Validation before launch: every problem, with its place, at once.
TEST(SweepErrors, AxisPathThatNamesNothing) {
  EXPECT_EQ(error_of("[sweep]\n\"optimiser.lr\" = [1e-4]\n"),
            "sweep.toml:13:1: sweep path 'optimiser.lr' names nothing: expected SECTION.KEY with SECTION one of "
            "data, discriminator, generator, loss, optimizer, optimizer.generator, optimizer.discriminator, train or "
            "metrics.NAME");
  EXPECT_EQ(error_of("[sweep]\n\"optimizer.lrr\" = [1e-4]\n"),
            "sweep.toml:13:1: [optimizer] has no key 'lrr' (accepts: lr, beta1, beta2, eps, lr_decay); did you mean 'lr'?");
  EXPECT_EQ(error_of("[sweep]\nlr = [1e-4]\n").substr(0, 50), "sweep.toml:13:1: sweep axis 'lr' must be a dotted ");
}

TEST(SweepErrors, BadValuesPointAtTheValue) {
  const std::string msg = error_of("[sweep]\n\"loss.plugin\" = [\"minimax\", \"wgan\"]\n\"train.steps\" = [10, -5]\n");
  EXPECT_NE(msg.find("sweep.toml:13:29: unknown loss 'wgan' (available: hinge, least_squares, minimax, nonsaturating, "
                     "ragan, rahinge, ralsgan, rsgan, wasserstein; did you mean: ragan, rsgan?)"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("sweep.toml:14:22: train.steps of [train]: -5 is out of range"), std::string::npos) << msg;
}

TEST(SweepErrors, ParameterThatOnlySomePluginsHave) {
  // clip exists for wasserstein only: a grid pairing it with minimax is a mistake (use cases).
  const std::string msg = error_of("[sweep]\n\"loss.plugin\" = [\"minimax\", \"wasserstein\"]\n\"loss.clip\" = [0.01]\n");
  EXPECT_EQ(msg, "sweep.toml:14:1: loss 'minimax' has no parameter 'clip' (accepts: no parameters)");
}

TEST(SweepErrors, DistributionsAndReservedKeys) {
  EXPECT_NE(error_of("[sweep]\n\"optimizer.lr\" = { log_uniform = [0.0, 1.0] }\n").find("distribution 'log_uniform' needs mode = \"random\""),
            std::string::npos);
  EXPECT_NE(error_of("[sweep]\nmode = \"random\"\ntrials = 3\n\"optimizer.lr\" = { log_uniform = [0.0, 1.0] }\n")
                .find("bad range for log_uniform [0, 1] (needs 0 < lo <= hi)"),
            std::string::npos);
  EXPECT_NE(error_of("[sweep]\nmode = \"random\"\n\"optimizer.lr\" = [1e-4]\n").find("mode = \"random\" needs trials = N"),
            std::string::npos);
  EXPECT_NE(error_of("[sweep]\nmode = \"random\"\ntrials = 2\n\"optimizer.lr\" = { normal = [0, 1] }\n")
                .find("unknown distribution 'normal' (available: choice, int, log_uniform, uniform)"),
            std::string::npos);
  EXPECT_NE(error_of("[sweep]\nmode = \"best\"\n").find("sweep.toml:13:8: sweep.mode must be \"grid\" or \"random\""),
            std::string::npos);
  EXPECT_NE(error_of("[sweep]\n\"optimizer.lr\" = [1e-4]\ncases = [{ \"optimizer.lr\" = 2e-4 }]\n")
                .find("case sets 'optimizer.lr', which is also a sweep axis"),
            std::string::npos);
}


// Schema-valid but wrong (issue 11).
std::string axes(int n, int values) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += fmt::format("\"train.a{}\" = [", i);
    for (int v = 0; v < values; ++v) out += fmt::format("{}{}", v ? ", " : "", v);
    out += "]\n";
  }
  return out;
}

TEST(SweepSize, RandomSearchIsCountedNotDrawn) {
  EXPECT_EQ(error_of("[sweep]\nmode = \"random\"\ntrials = 1000000000\n\"optimizer.lr\" = { uniform = [0.0, 1.0] }\n"),
            "sweep.toml:14:10: sweep has 2000000000 trials (1000000000 random points × 2 seeds), more than --max-trials 100000");
}

TEST(SweepSize, GridIsCountedFromAxisLengths) {
  EXPECT_EQ(error_of("[sweep]\n" + axes(6, 10)),
            "sweep.toml:12:1: sweep has 2000000 trials (10 × 10 × 10 × 10 × 10 × 10 × 2 seeds), more than --max-trials 100000");
  EXPECT_EQ(error_of("[sweep]\n" + axes(22, 10)).rfind("sweep.toml:12:1: sweep has more than 18446744073709551615 trials (10 × ", 0),
            0u);
}

TEST(SweepSize, CasesAndSeedsCountAndTheLimitIsInclusive) {
  const std::string sweep = "[sweep]\n\"optimizer.lr\" = [1e-4, 2e-4]\ncases = [{ \"train.steps\" = 1 }, { \"train.steps\" = 2 }]\n";
  EXPECT_EQ(error_of(sweep, 7), "sweep.toml:12:1: sweep has 8 trials (2 × 2 cases × 2 seeds), more than --max-trials 7");
  EXPECT_EQ(parse_experiment(base + sweep, "sweep.toml", test::builtin_registry(), {8}).trials.size(), 8u);
  EXPECT_EQ(error_of("", 1), "sweep.toml:3:9: experiment.seeds has 2 seeds, more than --max-trials 1");
}

TEST(SweepSize, ARefusedSweepStillChecksTheSections) {
  std::string text = base + "[sweep]\n" + axes(6, 10);
  text.replace(text.find("\"nonsaturating\""), 15, "\"wgan\"");
  try {
    parse_experiment(text, "sweep.toml", test::builtin_registry());
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "sweep.toml:11:10: unknown loss 'wgan' (available: hinge, least_squares, minimax, nonsaturating, "
              "ragan, rahinge, ralsgan, rsgan, wasserstein; did you mean: ragan, rsgan?)\n"
              "sweep.toml:12:1: sweep has 2000000 trials (10 × 10 × 10 × 10 × 10 × 10 × 2 seeds), more than --max-trials 100000");
  }
}

TEST(SweepHostile, DistributionBoundsAreFinite) {
  const std::string random = "[sweep]\nmode = \"random\"\ntrials = 3\n";
  EXPECT_EQ(error_of(random + "\"optimizer.lr\" = { uniform = [0, inf] }\n"),
            "sweep.toml:15:1: sweep axis 'optimizer.lr': uniform bounds must be finite numbers, found [0, inf]");
  EXPECT_EQ(error_of(random + "\"optimizer.lr\" = { log_uniform = [1e-5, nan] }\n"),
            "sweep.toml:15:1: sweep axis 'optimizer.lr': log_uniform bounds must be finite numbers, found [1e-05, nan]");
  EXPECT_EQ(error_of(random + "\"optimizer.lr\" = { uniform = [-inf, 0] }\n"),
            "sweep.toml:15:1: sweep axis 'optimizer.lr': uniform bounds must be finite numbers, found [-inf, 0]");
  EXPECT_EQ(error_of(random + "\"optimizer.eps\" = { uniform = [-1e308, 1e308] }\n"),
            "sweep.toml:15:1: sweep axis 'optimizer.eps': uniform range [-1e+308, 1e+308] is wider than the largest number");
  EXPECT_EQ(error_of("[sweep]\n\"optimizer.lr\" = [1e-4, inf]\n"),
            "sweep.toml:13:25: optimizer.lr of [optimizer]: inf is not a finite number — Adam learning rate for G and D");
}

TEST(SweepHostile, IntegerDrawsAreExactAtTheEdgesOfInt64) {
  // Through doubles these bounds were 2^63 (undefined to convert back); now they are exact.
  const std::string msg = error_of("[sweep]\nmode = \"random\"\ntrials = 4\n"
                                   "\"train.steps\" = { int = [9223372036854775806, 9223372036854775807] }\n");
  EXPECT_NE(msg.find("train.steps of [train]: 922337203685477580"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("9223372036854775808"), std::string::npos) << msg;
  const Experiment e = parse("[sweep]\nmode = \"random\"\ntrials = 4\n\"generator.width\" = { int = [3, 3] }\n");
  EXPECT_EQ(e.trials[0].config.generator.params.integer("width"), 3);
  // The whole int64 range: a width of 2^64 - 1 draws without overflow (UBSan would say).
  EXPECT_NE(error_of("[sweep]\nmode = \"random\"\ntrials = 4\n"
                     "\"generator.width\" = { int = [-9223372036854775808, 9223372036854775807] }\n")
                .find("generator.width of generator 'mlp': "),
            std::string::npos);
}

TEST(SweepHostile, EmptySweepsAndCases) {
  EXPECT_EQ(error_of("[sweep]\nmode = \"grid\"\n"),
            "sweep.toml:12:1: [sweep] has nothing to sweep: add \"SECTION.KEY\" = [values] or cases = [...], or remove [sweep]");
  EXPECT_EQ(error_of("[sweep]\nmode = \"random\"\ntrials = 3\ncases = [{ \"train.steps\" = 5 }]\n"),
            "sweep.toml:12:1: mode = \"random\" needs at least one axis to draw from, such as \"optimizer.lr\" = "
            "{ log_uniform = [1e-5, 1e-3] }");
  EXPECT_EQ(error_of("[sweep]\ncases = []\n"),
            "sweep.toml:13:9: sweep.cases must be a non-empty list of tables, e.g. [{ \"loss.plugin\" = \"wasserstein\", "
            "\"train.n_critic\" = 5 }]");
  EXPECT_EQ(error_of("[sweep]\ncases = [{ \"train.steps\" = 5 }, {}]\n"),
            "sweep.toml:13:33: sweep case sets nothing: give it \"dotted.path\" = value pairs or remove it");
  EXPECT_EQ(error_of("[sweep]\ncases = [\n  { \"loss.plugin\" = \"hinge\" },\n  { \"train.steps\" = 5, \"loss.plugin\" = \"wgan\" },\n]\n"),
            "sweep.toml:15:40: unknown loss 'wgan' (available: hinge, least_squares, minimax, nonsaturating, "
            "ragan, rahinge, ralsgan, rsgan, wasserstein; did you mean: ragan, rsgan?)");
}

TEST(SweepHostile, PathsAreStrictAndExperimentKeysReserved) {
  EXPECT_EQ(error_of("[sweep]\n\"optimizer..lr\" = [1]\n\".lr\" = [1]\n\"loss.\" = [1]\n"),
            "sweep.toml:13:1: sweep path 'optimizer..lr' has an empty segment\n"
            "sweep.toml:14:1: sweep path '.lr' has an empty segment\n"
            "sweep.toml:15:1: sweep path 'loss.' has an empty segment");
  EXPECT_EQ(error_of("[sweep]\n\"optimizer. lr\" = [1]\n"),
            "sweep.toml:13:1: sweep path 'optimizer. lr' has the character ' ', which no section or parameter name has");
  EXPECT_EQ(error_of("[sweep]\n\"experiment.seeds\" = [[0], [1]]\n"),
            "sweep.toml:13:1: experiment.seeds cannot be swept: every sweep point already runs once per seed of [experiment] seeds");
  EXPECT_EQ(error_of("[sweep]\n\"experiment.name\" = [\"a\"]\n"),
            "sweep.toml:13:1: sweep path 'experiment.name' cannot be swept: [experiment] settings apply to the whole experiment");
  EXPECT_EQ(error_of("[sweep]\ncases = [{ \"experiment.timeout\" = 5 }]\n"),
            "sweep.toml:13:12: sweep path 'experiment.timeout' cannot be swept: [experiment] settings apply to the whole experiment");
  EXPECT_EQ(error_of("[sweep]\n\"optimizer.lr\" = [1e-4]\n'optimizer.lr' = [1e-3]\n"),
            "sweep.toml:14:18: Error while parsing key-value pair: duplicate key: already defined in this table "
            "(\"k\", 'k' and k are the same key)");
  EXPECT_EQ(error_of("[sweep]\n\"optimizer.lr\" = [{ value = 1e-4 }]\n"),
            "sweep.toml:13:19: optimizer.lr: expected a value, found a table");
}

}  // namespace
}  // namespace gantry
