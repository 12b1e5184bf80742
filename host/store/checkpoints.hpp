#pragma once
// A run's checkpoints: files beside the database, rows in its `checkpoints` table.
//
// Where: the folder `<database>.checkpoints/` next to the database file, one sub-folder per run
// (`<run id>-<first 16 hex of its identity>`), one file per step. Not inside the database: a
// checkpoint of the reference DCGAN is megabytes, written every few minutes per trial, and the
// parent is the database's only writer — the bytes would cross the event pipe and hold the write
// lock the other trials' metrics wait for, and deleting old ones would leave the file as large as
// its peak until a VACUUM. A worker writes its own files (temporary, fsync, rename), and the
// parent records each one's size and SHA-256 in the same transaction as the metrics up to its
// step. Copying a study means copying the database and the folder beside it.
#include "store/store.hpp"
#include "train/checkpointer.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace gantry {

/// The folder a database's checkpoints live in: "results/gantry.db" → "results/gantry.db.checkpoints".
std::filesystem::path checkpoint_root(const std::filesystem::path& database);
/// A run's own sub-folder name: "<run id>-<first 16 hex of its identity>".
std::string run_checkpoint_folder(int64_t run_id, const std::string& identity);

/// One row of `checkpoints`.
struct CheckpointRow {
  int64_t step = 0;
  std::string file;  ///< relative to checkpoint_root
  int64_t bytes = 0;
  std::string sha256;
  std::string created_at;
};

/// The run's checkpoints, newest first.
std::vector<CheckpointRow> run_checkpoints(Database& db, int64_t run_id);
/// The run's checkpoints as a trial resumes from them, newest first, with full paths.
std::vector<CheckpointRef> resume_candidates(ResultStore& store, int64_t run_id);

/// Inside the caller's transaction: records a checkpoint written for the run.
void record_checkpoint(Database& db, int64_t run_id, int64_t step, const std::string& file, int64_t bytes,
                       const std::string& sha256);
/// Forgets all but the newest `keep` checkpoints of the run before its last step, keeping the one
/// of the last step always (keep = 0: forgets none), and deletes their files.
void prune_checkpoints(ResultStore& store, int64_t run_id, int64_t keep);
/// A run continues from the end of `step`: what an earlier attempt recorded after it (metrics,
/// pictures, checkpoints) is forgotten, in one transaction, and the files of those checkpoints
/// deleted; `note` is kept among the run's notes as "checkpoint.resume.<n>".
void rewind_run(ResultStore& store, int64_t run_id, int64_t step, const std::string& note);

}  // namespace gantry
