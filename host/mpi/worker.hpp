#pragma once
// A worker rank's side of a distributed run (every rank but 0).
#include "mpi/mpi_env.hpp"

namespace gantry {

struct Experiment;

/// Runs the trials rank 0 sends, `jobs` at a time, in this machine's forked, contained workers
/// (LocalTransport: the same workers as a local run), and reports their event lines and exits to
/// rank 0, until rank 0 says done. Signals sent to this process are left to rank 0, which gets
/// them too and stops every rank's trials itself.
void serve_trials(MpiComm& comm, const Experiment& exp, int jobs);

}  // namespace gantry
