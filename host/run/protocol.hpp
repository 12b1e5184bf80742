#pragma once
// What a worker process tells its parent, one tab-separated line per event over a pipe:
//   M step key value | F | P step steps d_loss g_loss | R outcome step d_updates g_updates message |
//   E message | A step kind mime base64 | N key value | C step bytes sha256 | S step message
#include "train/events.hpp"
#include "train/trainer.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace gantry {

/// A worker's EventSink: writes each event to `fd` as a line.
class PipeSink final : public EventSink {
 public:
  explicit PipeSink(int fd) : fd_(fd) {}
  void metric(int64_t step, std::string_view key, double value) override;
  void flush() override;
  void progress(int64_t step, int64_t steps, double d_loss, double g_loss) override;
  void artifact(int64_t step, std::string_view kind, std::string_view mime, std::string_view bytes) override;
  void note(std::string_view key, std::string_view value) override;
  void checkpoint(int64_t step, uint64_t bytes, std::string_view sha256) override;
  void resumed(int64_t step, std::string_view message) override;
  void result(const TrialResult& r);
  void error(std::string_view message);

 private:
  void send(const std::string& line);
  int fd_;
};

struct Event {
  enum class Type { metric, flush, progress, result, error, artifact, note, checkpoint, resumed } type = Type::flush;
  int64_t step = 0, steps = 0;
  std::string key;
  double value = 0, d_loss = 0, g_loss = 0;
  TrialResult result;
  std::string message;
  std::string mime, bytes;  ///< artifact (kind in `key`); a note's value is in `message`
  int64_t size = 0;         ///< checkpoint: its bytes (its SHA-256 in `key`); resumed: the message in `message`
};

/// The line (with its newline) a worker writes for `e`: parse_event reads it back as `e`.
std::string event_line(const Event& e);

/// Parses one line (without its newline); nullopt for a malformed line.
std::optional<Event> parse_event(std::string_view line);

}  // namespace gantry
