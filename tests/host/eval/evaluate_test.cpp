// gantry evaluate: a metric run on stored checkpoints after the fact records exactly the values
// the trainer recorded at the same steps (the evaluation path is the trainer's own), with notes.
#include "store/sqlite.hpp"

#include "support/experiments.hpp"
#include "support/spawn.hpp"

#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>

namespace gantry {
namespace {

std::string ring_text(const std::string& train_extra = "", const std::string& name = "tiny") {
  std::string text = test::tiny_experiment("plugin = \"nonsaturating\"", 60, "checkpoint_every = 20\n" + train_extra);
  text.replace(text.find("name = \"tiny\""), 13, fmt::format("name = \"{}\"", name));
  return text;
}

class Evaluate : public test::GantryDbTest {
 protected:
  test::Outcome evaluate(std::vector<std::string> args) { return gantry("evaluate", std::move(args)); }

  std::string query(const std::string& sql) {
    Database d(db, Database::Access::read_only);
    auto st = d.prepare(sql);
    std::string out;
    while (st.step()) out += st.column_text(0) + "\n";
    return out;
  }

  // Every metric row of the keys matching `like`, values to the last bit.
  std::string rows(const std::string& like) {
    return query(fmt::format("SELECT run_id || ' ' || key || ' ' || step || ' ' || printf('%!.17g', value) FROM metrics "
                             "WHERE key LIKE '{}' ORDER BY run_id, key, step",
                             like));
  }
};

TEST_F(Evaluate, RecomputingTheRunsOwnMetricGivesExactlyTheTrainersValues) {
  run(ring_text());
  const std::string before = rows("modes.%");
  ASSERT_NE(before.find("1 modes.high_quality 60 "), std::string::npos) << before;
  auto o = evaluate({"tiny", "--metric", "modes"});
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err, "gantry: error: metric 'modes' is already recorded for run 1 at steps 0, 20, 40, 60 (add --force to "
                   "compute it again and replace those values)\n");
  o = evaluate({"tiny", "--metric", "modes", "--force"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "run 1: modes at steps 0, 20, 40, 60\n");
  EXPECT_EQ(rows("modes.%"), before);  // same rows, same bits, none added
  const std::string note = query("SELECT value FROM run_notes WHERE key = 'evaluate.modes.computed'");
  EXPECT_TRUE(note.starts_with("later, by gantry evaluate, at steps 0, 20, 40, 60: plugin modes ")) << note;
  const std::string sha = query("SELECT sha256 FROM plugins WHERE section = 'metrics.modes'");
  EXPECT_NE(note.find(fmt::format("sha256 {}", sha.substr(0, sha.size() - 1))), std::string::npos) << note << sha;
}

TEST_F(Evaluate, DiscriminatorMetricOnAnEmaRunReproducesBothCopiesValues) {
  run(ring_text("g_ema = 0.9\ng_ema_start = 10"));
  const std::string before = rows("%disc_accuracy.%");
  ASSERT_NE(before.find("1 raw.disc_accuracy."), std::string::npos) << before;
  const auto o = evaluate({"1", "--metric", "disc_accuracy", "--force"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "run 1: disc_accuracy at steps 0, 20, 40, 60\n");
  EXPECT_EQ(rows("%disc_accuracy.%"), before);
}

TEST_F(Evaluate, AMetricTheExperimentDidNotMeasureIsAddedToEveryRun) {
  // The same two seeds measured with modes from the start, in another experiment: evaluate
  // must add to the other experiment exactly those values.
  std::string with = ring_text("", "with"), without = ring_text("", "without");
  with.replace(with.find("[experiment]"), 12, "[experiment]\nseeds = [1, 2]");
  without.replace(without.find("[experiment]"), 12, "[experiment]\nseeds = [1, 2]");
  without.erase(without.find("[metrics.modes]\n"), 16);
  run(with);
  run(without);
  ASSERT_EQ(query("SELECT COUNT(*) FROM metrics WHERE run_id IN (3, 4) AND key LIKE 'modes.%'"), "0\n");
  const auto o = evaluate({"without", "--metric", "modes"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "run 3: modes at steps 0, 20, 40, 60\nrun 4: modes at steps 0, 20, 40, 60\n");
  auto modes_of = [&](int run) {
    return query(fmt::format("SELECT key || ' ' || step || ' ' || printf('%!.17g', value) FROM metrics WHERE run_id = {} "
                             "AND key LIKE 'modes.%' ORDER BY key, step",
                             run));
  };
  EXPECT_EQ(modes_of(3), modes_of(1));
  EXPECT_EQ(modes_of(4), modes_of(2));
  EXPECT_NE(modes_of(3), "");
}

TEST_F(Evaluate, OnlyEvaluationStepsWithACheckpointAreScored) {
  // Evaluations at 0, 20, 40, 60; checkpoints at 40 and 60 only. Step 0 needs none.
  std::string text = ring_text();
  text.replace(text.find("checkpoint_every = 20"), 21, "checkpoint_every = 40");
  run(text);
  const std::string before = rows("disc_accuracy.%");
  const auto o = evaluate({"tiny", "--metric", "disc_accuracy", "--force"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "run 1: disc_accuracy at steps 0, 40, 60\n");
  EXPECT_EQ(rows("disc_accuracy.%"), before);
}

TEST_F(Evaluate, DcganWithBatchNormReproducesTheTrainersValues) {
  run("[experiment]\nname = \"dc\"\n" + test::tiny_dcgan_experiment("", "checkpoint_every = 2", "[metrics.disc_accuracy]\nsamples = 16\n"));
  const std::string before = rows("disc_accuracy.%");
  ASSERT_NE(before, "");
  const auto o = evaluate({"dc", "--metric", "disc_accuracy", "--force"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "run 1: disc_accuracy at steps 0, 2, 4\n");
  EXPECT_EQ(rows("disc_accuracy.%"), before);
}

TEST_F(Evaluate, RunsWithoutCheckpointsAreSkippedSayingSo) {
  run(ring_text());
  {
    Database d(db);
    d.exec("DELETE FROM checkpoints");
  }
  const std::string before = rows("%");
  const auto o = evaluate({"tiny", "--metric", "modes"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "run 1: skipped, no checkpoints\n");
  EXPECT_EQ(rows("%"), before);
  EXPECT_EQ(query("SELECT COUNT(*) FROM run_notes WHERE key LIKE 'evaluate.%'"), "0\n");
}

TEST_F(Evaluate, UnknownTargetsAndMetricsAreRefused) {
  run(ring_text());
  auto o = evaluate({"nope", "--metric", "modes"});
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err, fmt::format("gantry: error: no run or experiment 'nope' in {} (experiments: tiny)\n", db));
  o = evaluate({"1", "--metric", "modes", "--set", "bogus=1"});
  EXPECT_EQ(o.code, 2);
  EXPECT_TRUE(o.err.starts_with("gantry: error: --set bogus=1: metric 'modes' has no parameter 'bogus'")) << o.err;
}

}  // namespace
}  // namespace gantry
