// Checkpoints and resuming inside one process: a trial stopped at a step and resumed from its
// checkpoint reports exactly (bit for bit) what the uninterrupted trial reports, and a checkpoint
// that cannot be used is passed over, saying why.
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"

#include "support/experiments.hpp"
#include "support/plugins.hpp"
#include "support/recorder.hpp"

#include <gantry/plugin.hpp>
#include <gantry/sha256.hpp>

#include <atomic>
#include <csignal>
#include <sys/resource.h>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>

namespace gantry {
namespace {

using test::Recorder;

Experiment parse(const std::string& text) { return parse_experiment(text, "ckpt.toml", test::builtin_registry()); }

std::string ring(int64_t width = 32, const std::string& train_extra = "checkpoint_every = 20") {
  std::string text = test::tiny_experiment("plugin = \"nonsaturating\"", 60, train_extra);
  text.replace(text.find("width = 32"), 10, fmt::format("width = {}", width));
  return text;
}

class Checkpoints : public ::testing::Test {
 protected:
  test::TempDir dir;

  // Runs the trial, stopping it (as Ctrl-C does) after `stop_after` steps when > 0.
  Recorder run(const TrialConfig& trial, const std::filesystem::path& folder, std::vector<CheckpointRef> resume = {},
               int64_t stop_after = 0) {
    Recorder rec;
    std::atomic<int> stop{0};
    Trainer trainer(trial, rec, &stop);
    trainer.checkpoints({folder, std::move(resume)});
    trainer.on_step([&](int64_t step) {
      if (step == stop_after) stop = 1;
    });
    const TrialResult result = trainer.run();
    EXPECT_EQ(result.outcome, stop_after > 0 ? TrialOutcome::interrupted : TrialOutcome::completed);
    return rec;
  }

  static CheckpointRef ref(const Recorder& rec, const std::filesystem::path& folder, int64_t step) {
    return {step, folder / checkpoint_file_name(step), rec.checkpoints.at(step).second};
  }

  // Stops at `stop_after`, resumes from the newest checkpoint, and checks the two attempts
  // together report exactly what one uninterrupted run reports.
  void expect_exact_resume(const std::string& text, int64_t stop_after) {
    const Experiment exp = parse(text);
    const TrialConfig& trial = exp.trials[0].config;
    const Recorder whole = run(trial, dir.path / "whole");
    const Recorder first = run(trial, dir.path / "split", {}, stop_after);
    ASSERT_EQ(first.checkpoints.rbegin()->first, stop_after);  // saved where it stopped
    const Recorder second = run(trial, dir.path / "split", {ref(first, dir.path / "split", stop_after)});
    ASSERT_EQ(second.resumes.size(), 1u);
    EXPECT_EQ(second.resumes[0].first, stop_after);
    EXPECT_EQ(second.resumes[0].second, fmt::format("resumed from the checkpoint of step {}", stop_after));
    auto joined = first.points;
    for (const auto& [key, value] : second.points) {
      EXPECT_GT(key.second, stop_after) << key.first << " measured again at step " << key.second;
      joined[key] = value;
    }
    EXPECT_EQ(joined, whole.points);  // exact doubles, every key and step
    EXPECT_EQ(whole.checkpoints.rbegin()->second, second.checkpoints.rbegin()->second);  // same final file
  }
};

TEST_F(Checkpoints, ResumedMlpEndsWithExactlyTheUninterruptedMetrics) { expect_exact_resume(ring(), 31); }

TEST_F(Checkpoints, ResumedEmaRunEndsWithExactlyTheUninterruptedMetrics) {
  expect_exact_resume(ring(32, "checkpoint_every = 20\ng_ema = 0.9\ng_ema_start = 10"), 27);
}

TEST_F(Checkpoints, ResumedBatchNormDcganOnFashionMnistEndsExactly) {
  // BatchNorm's running statistics (buffers) and the data source's place in its shuffled epoch.
  std::string text = test::tiny_dcgan_experiment("batch_norm = true", "checkpoint_every = 2");
  text.replace(text.find("steps = 4"), 9, "steps = 6");
  expect_exact_resume(text, 3);
}

TEST_F(Checkpoints, ResumedConditionalRunEndsExactly) {
  // The fake labels' stream and the projection D's embedding are kept with the rest.
  expect_exact_resume(ring(32, "checkpoint_every = 20\nconditional = true"), 33);
}

TEST_F(Checkpoints, ResumedConditionalSpectralNormResnetEndsExactly) {
  // Conditional batch norm's running statistics in G's blocks, and the power iterations' u and v of
  // every convolution, of ψ and of the class embedding in the projection critic.
  std::string text = test::tiny_dcgan_experiment("", "conditional = true\ncheckpoint_every = 2");
  text.replace(text.find("classes = [1, 7]\n"), 17, "");
  text.replace(text.find("steps = 4"), 9, "steps = 6");
  for (int i = 0; i < 2; ++i) text.replace(text.find("plugin = \"dcgan\""), 16, "plugin = \"resnet\"");
  expect_exact_resume(text, 3);
}

TEST_F(Checkpoints, ResumedPackedRunEndsExactly) {
  std::string text = ring(32, "checkpoint_every = 20");
  const std::string d_end = "depth = 2\n[loss]";
  text.replace(text.find(d_end), d_end.size(), "depth = 2\npack = 2\n[loss]");
  expect_exact_resume(text, 29);
}

TEST_F(Checkpoints, AConditionalRunRefusesTheCheckpointOfAnUnconditionalOne) {
  const Experiment plain = parse(ring());
  const Recorder made = run(plain.trials[0].config, dir.path / "made");
  const Experiment cond = parse(ring(32, "checkpoint_every = 20\nconditional = true"));
  const Recorder rec = run(cond.trials[0].config, dir.path / "again", {ref(made, dir.path / "made", 40)});
  ASSERT_EQ(rec.resumes.size(), 1u);
  EXPECT_EQ(rec.resumes[0].first, 0);
  EXPECT_NE(rec.resumes[0].second.find("the file has 'data ring8 sample [2] classes 0' where this trial has 'data ring8 sample [2] classes 8'"), std::string::npos) << rec.resumes[0].second;
}

TEST_F(Checkpoints, SavesEveryNStepsAndAtTheEnd) {
  const Experiment exp = parse(ring(32, "checkpoint_every = 25"));
  const Recorder rec = run(exp.trials[0].config, dir.path);
  std::vector<int64_t> steps;
  for (const auto& [step, c] : rec.checkpoints) {
    steps.push_back(step);
    EXPECT_EQ(std::filesystem::file_size(dir.path / checkpoint_file_name(step)), c.first);
    EXPECT_EQ(sha256_file(dir.path / checkpoint_file_name(step)), c.second);
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{25, 50, 60}));
}

// A full disk (here: a file-size limit of 1 KiB, which fails the writes the same way) costs the
// checkpoints, never the run: each failure is a note, no partial file is left, and the metrics are
// those of the run that could save.
TEST_F(Checkpoints, AFullDiskBecomesANoteAndTrainingGoesOn) {
  const Experiment exp = parse(ring());
  const Recorder saved = run(exp.trials[0].config, dir.path / "saved");
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &before), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = before;
  small.rlim_cur = 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  const Recorder full = run(exp.trials[0].config, dir.path / "full");
  setrlimit(RLIMIT_FSIZE, &before);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(full.checkpoints.empty());
  for (int64_t step : {20, 40, 60})
    EXPECT_EQ(full.notes.at(fmt::format("checkpoint.error.{}", step)),
              fmt::format("checkpoint {}: cannot write: File too large",
                          (dir.path / "full" / checkpoint_file_name(step)).string()));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path / "full")) << "a partial file was left";
  EXPECT_EQ(full.points, saved.points);
}

class Refused : public Checkpoints {
 protected:
  void SetUp() override {
    const Experiment exp = parse(ring());
    made_ = run(exp.trials[0].config, dir.path / "made");
    file_ = dir.path / "made" / checkpoint_file_name(40);
    sha_ = made_.checkpoints.at(40).second;
  }
  // What resuming from the (altered) checkpoint of step 40 says, trained with `text`.
  std::string resume_message(const std::string& text, std::vector<CheckpointRef> extra = {}) {
    const Experiment exp = parse(text);
    std::vector<CheckpointRef> from{{40, file_, sha_}};
    from.insert(from.end(), extra.begin(), extra.end());
    const Recorder rec = run(exp.trials[0].config, dir.path / "again", from);
    EXPECT_EQ(rec.resumes.size(), 1u);
    return rec.resumes.empty() ? "" : rec.resumes[0].second;
  }
  void overwrite(size_t offset, const std::string& bytes) {
    std::fstream f(file_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  Recorder made_;
  std::filesystem::path file_;
  std::string sha_;
};

TEST_F(Refused, TruncatedFileFallsBackToStepZero) {
  const auto size = std::filesystem::file_size(file_);
  std::filesystem::resize_file(file_, 1000);
  EXPECT_EQ(resume_message(ring()),
            fmt::format("checkpoint {}: truncated: 1000 bytes, its header says {}; started again from step 0",
                        file_.string(), size));
}

TEST_F(Refused, ChangedByteIsCaughtByTheRecordedSha256) {
  overwrite(std::filesystem::file_size(file_) - 9, "X");
  EXPECT_EQ(resume_message(ring()),
            fmt::format("checkpoint {}: sha256 {} differs from the {} recorded when it was written; started again "
                        "from step 0",
                        file_.string(), sha256_file(file_), sha_));
}

TEST_F(Refused, AnotherArchitectureNamesTheFirstDifference) {
  EXPECT_EQ(resume_message(ring(16)),
            fmt::format("checkpoint {}: made by another architecture: the file has '  width = 32' where this trial "
                        "has '  width = 16'; started again from step 0",
                        file_.string()));
}

TEST_F(Refused, AnotherAbiOrFormatOrNoCheckpointAtAll) {
  overwrite(12, std::string("\x05\0\0\0", 4));
  EXPECT_EQ(resume_message(ring(), {}),
            fmt::format("checkpoint {}: written by plugin ABI 5, this gantry has ABI {}; started again from step 0",
                        file_.string(), abi_version));
  overwrite(8, std::string("\x09\0\0\0", 4));
  EXPECT_EQ(resume_message(ring()),
            fmt::format("checkpoint {}: format version 9, this gantry reads version 1; started again from step 0",
                        file_.string()));
  std::ofstream(file_) << "hello";
  EXPECT_EQ(resume_message(ring()),
            fmt::format("checkpoint {}: not a gantry checkpoint; started again from step 0", file_.string()));
}

TEST_F(Refused, MissingOrCorruptFallsBackToThePreviousOne) {
  std::filesystem::resize_file(file_, 1000);
  const CheckpointRef previous{20, dir.path / "made" / checkpoint_file_name(20), made_.checkpoints.at(20).second};
  const CheckpointRef missing{50, dir.path / "made" / "gone.ckpt", sha_};
  const Experiment exp = parse(ring());
  const Recorder rec = run(exp.trials[0].config, dir.path / "again", {missing, {40, file_, sha_}, previous});
  ASSERT_EQ(rec.resumes.size(), 1u);
  EXPECT_EQ(rec.resumes[0].first, 20);
  EXPECT_EQ(rec.resumes[0].second,
            fmt::format("checkpoint {}: missing; checkpoint {}: truncated: 1000 bytes, its header says {}; resumed "
                        "from the checkpoint of step 20",
                        missing.path.string(), file_.string(), std::filesystem::file_size(previous.path)));
  // From step 20 the run measures exactly what the uninterrupted one did.
  for (const auto& [key, value] : rec.points) EXPECT_EQ(value, made_.points.at(key)) << key.first << " " << key.second;
  EXPECT_EQ(rec.points.count({"modes.modes", 20}), 0u);
  EXPECT_EQ(rec.points.count({"modes.modes", 40}), 1u);
}

TEST(Ema, StartingAtTheLastStepCopiesGSoBothKeysAgree) {
  const Experiment exp = parse(ring(32, "g_ema = 0.99\ng_ema_start = 60"));
  Recorder rec;
  Trainer(exp.trials[0].config, rec).run();
  int compared = 0;
  for (const auto& [key, value] : rec.points)
    if (key.first.starts_with("raw.")) {
      EXPECT_EQ(value, rec.points.at({key.first.substr(4), key.second})) << key.first;
      ++compared;
    }
  EXPECT_EQ(compared, 5 * 4);  // modes (3 keys) and disc_accuracy (2) at steps 0, 20, 40, 60
}

TEST(Ema, AveragingChangesTheMetricsButNotTraining) {
  const Experiment plain = parse(ring(32, ""));
  const Experiment ema = parse(ring(32, "g_ema = 0.9"));
  Recorder a, b;
  Trainer(plain.trials[0].config, a).run();
  Trainer(ema.trials[0].config, b).run();
  for (const auto& [key, value] : a.points)
    if (!key.first.starts_with("loss.")) EXPECT_EQ(b.points.at({"raw." + key.first, key.second}), value) << key.first;
    else EXPECT_EQ(b.points.at(key), value) << "G itself trains as without EMA";
  EXPECT_NE(a.points.at({"disc_accuracy.accuracy", 60}), b.points.at({"disc_accuracy.accuracy", 60}));
  EXPECT_EQ(plain.trials[0].config_identity, parse(ring(32, "checkpoint_every = 7\nkeep_checkpoints = 1")).trials[0].config_identity)
      << "how often checkpoints are saved does not change what a trial computes";
  EXPECT_NE(plain.trials[0].config_identity, ema.trials[0].config_identity);
}

}  // namespace
}  // namespace gantry
