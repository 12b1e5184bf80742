#pragma once
#include "util/process.hpp"
#include "run/transport.hpp"

#include <atomic>
#include <memory>
#include <vector>

namespace gantry {

/// Runs each trial in a forked worker on this machine. The worker keeps only its two pipes
/// (events, stderr), never the parent's other descriptors (the database among them), and runs
/// the trial contained (run_contained): whatever processes the trial starts end with it.
class LocalTransport final : public TrialTransport {
 public:
  explicit LocalTransport(int jobs);
  /// Kills and reaps every worker still running: no path leaves a process behind.
  ~LocalTransport() override;
  LocalTransport(const LocalTransport&) = delete;
  LocalTransport& operator=(const LocalTransport&) = delete;

  int capacity() const override { return jobs_; }
  size_t running() const override { return workers_.size(); }
  TrialPlace launch(const TrialTicket& ticket) override;
  void poll(std::chrono::milliseconds timeout, TransportListener& listener) override;
  void request_stop(int level) override;
  void kill(size_t record) override;

 private:
  struct Worker {
    size_t record = 0;
    pid_t pid = -1;
    UniqueFd events, errors, exited;  // exited: a pidfd, readable once the worker has ended
    std::string events_buf, stderr_tail;
    bool ended = false;
    bool overflowed = false;  // sent an over-long line: stopped, the rest of what it sent is dropped
    int wait_status = 0;
  };
  void read_events(Worker& w, TransportListener& listener);
  void reap_if_ended(Worker& w);
  int jobs_;
  std::atomic<int>* stop_ = nullptr;  // in memory shared with every worker
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace gantry
