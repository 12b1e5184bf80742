#pragma once
// How a distributed run begins and ends: every rank reports what it loaded, rank 0 compares,
// then either every rank serves trials until rank 0 says done, or every rank quits.
#include "mpi/messages.hpp"
#include "mpi/mpi_env.hpp"

#include <string>
#include <vector>

namespace gantry {

struct Experiment;

/// What this rank reports: its build, its --jobs, and the plugins and trial identities of the
/// experiment it loaded, or why it could not load it (`exp` null).
mpi::Hello describe_rank(int rank, int jobs, const Experiment* exp, const std::string& error);

/// Why `other` cannot run `root`'s trials, one line per difference naming its host, rank and
/// the differing files; empty when it can.
std::vector<std::string> differences(const mpi::Hello& root, const mpi::Hello& other);

/// Rank 0's handle on the other ranks. If it is destroyed before start(), the ranks are told to
/// quit (exit code 2); after start() and before finish(), told they are done.
class Coordinator {
 public:
  explicit Coordinator(MpiComm& comm) : comm_(comm) {}
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  /// Waits for every rank's hello. Throws ConfigError listing every difference from `own`, after
  /// telling the ranks to quit. Rank 0 runs `own_slots` trials at once.
  struct Ranks {
    std::vector<int> slots;          ///< trials each rank runs at once
    std::vector<std::string> hosts;  ///< the machine each rank runs on
  };
  Ranks check_ranks(const mpi::Hello& own, int own_slots);
  /// Every rank quits with `code` (a dry run, an error before any trial).
  void quit(int code);
  /// Every rank starts serving trials, measuring with the study's feature `networks`.
  void start(const std::vector<FeatureNetwork>& networks);
  /// Every rank is told it is done; returns once each has said bye (its last reports sent).
  void finish();

 private:
  MpiComm& comm_;
  enum class State { gathering, quit, started, finished } state_ = State::gathering;
};

/// Every rank but 0, for its whole life: says hello, then serves trials if rank 0 starts the
/// run. Returns 0 (rank 0's exit code is the job's, and rank 0 alone says why it stopped).
int worker_rank_main(MpiComm& comm, int jobs, const Experiment* exp, const std::string& error);

}  // namespace gantry
