#pragma once
// When a trial saves checkpoints and how it resumes from one; the file format is checkpoint.hpp's.
#include "train/checkpoint.hpp"
#include "train/events.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace gantry {

/// A checkpoint recorded for a run: where it is and what its SHA-256 was when written.
struct CheckpointRef {
  int64_t step = 0;
  std::filesystem::path path;
  std::string sha256;
};

/// Where a trial's checkpoints go and which it may resume from.
struct CheckpointPlan {
  std::filesystem::path folder;            ///< the run's folder; empty = save none
  std::vector<CheckpointRef> resume_from;  ///< newest first; empty = start at step 0
};

/// "step-000000001000.ckpt": sorts by step in a listing.
std::string checkpoint_file_name(int64_t step);

class Checkpointer {
 public:
  /// `every` = [train] checkpoint_every (0: only at the end of `steps`).
  Checkpointer(CheckpointPlan plan, EventSink& sink, int64_t every, int64_t steps);
  /// Loads the newest usable checkpoint of the plan into `state` and returns its step; one that is
  /// missing or refused is skipped for the one before it, then for step 0 (returned as 0). Says
  /// what it did through the sink's resumed() whenever there was something to resume from.
  int64_t resume(TrainingState& state);
  /// Whether the end of `step` should save: every `every` steps and at the last.
  bool due(int64_t step) const;
  /// Saves the state at the end of `step` (once per step) and reports it to the sink. A file that
  /// cannot be written becomes a note and training goes on: the previous checkpoint is intact.
  void save(int64_t step, const TrainingState& state);

 private:
  CheckpointPlan plan_;
  EventSink& sink_;
  int64_t every_, steps_, last_saved_ = -1;
};

}  // namespace gantry
