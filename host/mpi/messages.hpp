#pragma once
// What ranks say to each other. Every message is one MPI message of bytes: a kind, then fields
// (integers as 8 bytes little-endian, strings length-prefixed). Rank 0 → worker ranks: start
// (with the study's feature networks), quit, launch, stop, kill, done; worker ranks → rank 0: hello, report (a batch of its trials'
// event lines, malformed lines and exits, in the order they happened), bye.
#include "store/feature_networks.hpp"
#include "train/checkpointer.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::mpi {

enum class Kind : uint8_t { hello = 1, start, quit, launch, stop, kill, done, report, bye };

/// A plugin library a trial of the experiment uses, as one rank resolved it.
struct PluginFact {
  std::string kind, name, version, sha256, file;
  bool operator==(const PluginFact&) const = default;
};

/// What a rank tells rank 0 before anything runs.
struct Hello {
  int rank = 0;
  std::string host;
  std::string fingerprint;  ///< gantry's build fingerprint (version, compiler, C++ ABI)
  int64_t abi = 0;          ///< the plugin ABI version it supports
  int64_t slots = 0;        ///< trials it runs at once (its --jobs)
  std::string error;        ///< why it could not load the experiment, if it could not
  std::vector<PluginFact> plugins;  ///< sorted; those the experiment's trials use
  std::vector<std::string> identities;  ///< every trial's identity, in trial order
};

/// A trial rank 0 hands to a worker rank: which one (by index, since every rank expanded the
/// same file) and what the scheduler decided for it.
struct Launch {
  int64_t record = 0, trial = 0, run_id = 0, threads = 1;
  uint64_t memory_limit = 0;
  std::string identity;  ///< checked against the rank's own expansion
  CheckpointPlan checkpoints;
};

/// Rank 0's go: the feature networks its study measures with (the files themselves), so that a
/// rank on another machine measures with exactly those weights instead of its own.
struct Start {
  std::vector<FeatureNetwork> networks;
};

/// One item of a report.
struct ReportItem {
  enum class Type : uint8_t { event = 1, malformed, finished } type = Type::event;
  int64_t record = 0;
  std::string text;  ///< the event line (without newline), the malformed line, or the stderr tail
  int64_t wait_status = 0;  ///< finished only
};

std::string encode(const Hello& h);
std::string encode(const Launch& l);
std::string encode(const Start& s);
std::string encode(const std::vector<ReportItem>& items);
std::string encode_simple(Kind kind, int64_t value = 0);  ///< quit(code), stop(level), kill(record), done, bye

/// The kind of a message; nullopt for an empty one or an unknown kind.
std::optional<Kind> kind_of(std::string_view bytes);
/// Decoders: nullopt when the message is not of that kind or is cut short.
std::optional<Hello> decode_hello(std::string_view bytes);
std::optional<Launch> decode_launch(std::string_view bytes);
std::optional<Start> decode_start(std::string_view bytes);
std::optional<std::vector<ReportItem>> decode_report(std::string_view bytes);
std::optional<int64_t> decode_simple(std::string_view bytes);

}  // namespace gantry::mpi
