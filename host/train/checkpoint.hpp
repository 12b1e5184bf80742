#pragma once
// A trial's checkpoint file: everything needed to continue training exactly where it stopped.
//
//   "GANTRYCK" · u32 format version · u32 plugin ABI · u64 file size · u64 header size · header
//   · every tensor's floats in header order · each stream's RngState · each counter (i64)
//   · u64 size + the data source's state
//
// The header is text, one line per item: the architecture (G's and D's plugins and parameters,
// the data's plugin and sample shape), then "tensor NAME [SHAPE]", "stream NAME", "counter NAME".
// A file is loaded only when its header equals the trial's line for line, so a checkpoint of
// another architecture is refused naming the first line that differs; numbers are native
// little-endian (x86-64), like the SQLite files they sit beside on the same machines.
#include <gantry/data.hpp>
#include <gantry/error.hpp>
#include <gantry/random.hpp>
#include <gantry/tensor.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gantry {

/// A checkpoint that cannot be used: unreadable, truncated, changed since it was written, or made
/// by another architecture, format or ABI. The message names the file and what differs.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

inline constexpr uint32_t checkpoint_format_version = 1;

/// Pointers into a live trial: what a checkpoint writes from and reads back into.
struct TrainingState {
  std::vector<std::string> architecture;                    ///< lines naming what was built
  std::vector<std::pair<std::string, Tensor*>> tensors;      ///< weights, buffers, moments, EMA
  std::vector<std::pair<std::string, Rng*>> streams;         ///< every random stream of the loop
  std::map<std::string, int64_t> counters;                   ///< step, optimizer steps, updates
  DataSource* data = nullptr;                                ///< its state() is kept too
};

/// What a written checkpoint is.
struct WrittenCheckpoint {
  uint64_t bytes = 0;
  std::string sha256;  ///< of the whole file, as sha256sum prints it
};

/// Writes `state` to `path` through a temporary file in the same folder (fsync, rename, fsync of
/// the folder): a crash or a full disk leaves any earlier file at `path` as it was. Throws
/// CheckpointError naming the file and the system's reason.
WrittenCheckpoint write_checkpoint(const std::filesystem::path& path, const TrainingState& state);

/// Reads `path` into `state` (tensors, streams, data state) and returns the saved counters.
/// Checks, in order: the magic, format version, ABI, size, the SHA-256 recorded when it was written
/// (`expected_sha256`, unless empty) and the header; nothing in `state` changes unless all pass.
std::map<std::string, int64_t> read_checkpoint(const std::filesystem::path& path, const std::string& expected_sha256,
                                               TrainingState& state);

/// A checkpoint's architecture lines and its tensors by name, without a live trial to load into.
struct CheckpointTensors {
  std::vector<std::string> architecture;
  std::map<std::string, Tensor> tensors;
};

/// Reads the architecture and every tensor of `path` (streams, counters and data state are left),
/// for a caller that restores only part of a trial, such as G to sample from. Checks the magic,
/// format version, ABI, size and SHA-256 as read_checkpoint does.
CheckpointTensors read_checkpoint_tensors(const std::filesystem::path& path, const std::string& expected_sha256);

}  // namespace gantry
