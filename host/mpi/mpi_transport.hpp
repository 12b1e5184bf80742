#pragma once
// Rank 0's side of a distributed run: the scheduler's transport over MPI.
#include "mpi/mpi_env.hpp"
#include "run/local_transport.hpp"

#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

namespace gantry {

struct Experiment;
struct TrialConfig;

/// Hands trials to ranks, rank 0 included when it has slots: rank 0's own go to a LocalTransport,
/// the others' are sent to their rank, whose LocalTransport runs them and reports back (worker.hpp).
/// Each trial goes to the rank with the smallest share of its slots in use, so a rank that
/// finishes early is given the next trial (a dynamic queue: the scheduler's).
class MpiTransport final : public TrialTransport {
 public:
  /// `slots[r]`: trials rank r runs at once (0 for rank 0 = it only coordinates).
  /// `hosts[r]`: the machine rank r runs on.
  MpiTransport(MpiComm& comm, const Experiment& exp, std::vector<int> slots, std::vector<std::string> hosts);

  int capacity() const override { return capacity_; }
  size_t running() const override { return where_.size(); }
  TrialPlace launch(const TrialTicket& ticket) override;
  void poll(std::chrono::milliseconds timeout, TransportListener& listener) override;
  void request_stop(int level) override;
  void kill(size_t record) override;

  /// Delivers one report from a worker rank; false if it is not one (the caller names the rank).
  bool deliver(std::string_view report, TransportListener& listener);

 private:
  int pick_rank() const;
  void finished(size_t record);
  MpiComm& comm_;
  const Experiment& exp_;
  std::vector<int> slots_, busy_;
  std::vector<std::string> hosts_;
  int capacity_ = 0;
  std::unique_ptr<LocalTransport> local_;
  std::map<size_t, int> where_;  // record → rank running it
  std::unordered_map<const TrialConfig*, size_t> trial_of_;  // a ticket's config → its trial's index
};

}  // namespace gantry
