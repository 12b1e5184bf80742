#pragma once
// An EventSink that keeps everything a trial reports, for tests of the trainer.
#include "train/events.hpp"

#include <gtest/gtest.h>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gantry::test {

struct Recorder final : EventSink {
  std::map<std::pair<std::string, int64_t>, double> points;  ///< (key, step) → value
  std::map<int64_t, std::string> pictures;                   ///< step → PNG bytes
  std::map<std::string, std::string> notes;
  int flushes = 0;
  void metric(int64_t step, std::string_view key, double value) override { points[{std::string(key), step}] = value; }
  void flush() override { ++flushes; }
  void artifact(int64_t step, std::string_view kind, std::string_view mime, std::string_view bytes) override {
    EXPECT_EQ(kind, "samples");  // the trainer's only pictures: scatters and grids of G's samples
    EXPECT_EQ(mime, "image/png");
    pictures[step] = std::string(bytes);
  }
  void note(std::string_view key, std::string_view value) override { notes[std::string(key)] = std::string(value); }
  std::map<int64_t, std::pair<uint64_t, std::string>> checkpoints;  ///< step → (bytes, sha256)
  std::vector<std::pair<int64_t, std::string>> resumes;              ///< (step, message)
  void checkpoint(int64_t step, uint64_t bytes, std::string_view sha256) override {
    checkpoints[step] = {bytes, std::string(sha256)};
  }
  void resumed(int64_t step, std::string_view message) override { resumes.emplace_back(step, std::string(message)); }
};

}  // namespace gantry::test
