#pragma once
// How the scheduler's trials reach the processes that run them. The scheduler decides what
// runs, claims it in the store and records what comes back; a transport only starts trials,
// relays their events and says how each ended. Today's transport forks local workers; another
// (MPI ranks) plugs in behind the same interface.
#include "config/experiment.hpp"
#include "run/protocol.hpp"
#include "train/checkpointer.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace gantry {

/// One trial handed to a transport; `record` is the scheduler's handle for it.
struct TrialTicket {
  size_t record = 0;
  int64_t run_id = 0;
  const TrialConfig* config = nullptr;
  int threads = 1;  ///< oneDNN threads for this trial
  uint64_t memory_limit = 0;  ///< bytes of address space the trial may use (0 = no limit)
  CheckpointPlan checkpoints;  ///< where the trial saves checkpoints, and which it resumes from
};

/// How a trial's process ended.
struct TrialExit {
  int wait_status = 0;      ///< as from waitpid
  std::string stderr_tail;  ///< the last bytes it wrote to stderr
};

/// Where a transport started a trial.
struct TrialPlace {
  std::string host;  ///< the machine its worker runs on
  int rank = -1;     ///< the MPI rank whose worker runs it; -1 for a local run
};

/// Receives what a transport's trials report.
class TransportListener {
 public:
  virtual ~TransportListener() = default;
  virtual void on_event(size_t record, const Event& event) = 0;
  /// A line that is not an event (a plugin writing into the event channel).
  virtual void on_malformed(size_t record, std::string_view line) = 0;
  /// The trial's processes are all gone; nothing more comes for `record`.
  virtual void on_finished(size_t record, const TrialExit& exit) = 0;
};

class TrialTransport {
 public:
  virtual ~TrialTransport() = default;
  /// Trials it can run at once.
  virtual int capacity() const = 0;
  virtual size_t running() const = 0;
  virtual TrialPlace launch(const TrialTicket& ticket) = 0;
  /// Waits up to `timeout` for anything to happen, then delivers every event and every
  /// finished trial to `listener`. Never blocks on a trial that has ended.
  virtual void poll(std::chrono::milliseconds timeout, TransportListener& listener) = 0;
  /// The stop level every running trial sees: at 1 each ends after its current step.
  virtual void request_stop(int level) = 0;
  /// Ends one trial and every process it started, at once; poll() then reports it finished.
  virtual void kill(size_t record) = 0;
};

}  // namespace gantry
