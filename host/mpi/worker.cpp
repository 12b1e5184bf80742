#include "mpi/worker.hpp"

#include "config/experiment.hpp"
#include "mpi/messages.hpp"
#include "run/local_transport.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <sys/wait.h>

namespace gantry {

namespace {

// Collects what the local workers report, as lines, for the next report to rank 0.
class Forwarder final : public TransportListener {
 public:
  void on_event(size_t record, const Event& e) override {
    std::string line = event_line(e);
    line.pop_back();  // the newline
    items.push_back({mpi::ReportItem::Type::event, static_cast<int64_t>(record), std::move(line), 0});
  }
  void on_malformed(size_t record, std::string_view line) override {
    items.push_back({mpi::ReportItem::Type::malformed, static_cast<int64_t>(record), std::string(line), 0});
  }
  void on_finished(size_t record, const TrialExit& exit) override {
    items.push_back({mpi::ReportItem::Type::finished, static_cast<int64_t>(record), exit.stderr_tail, exit.wait_status});
  }
  std::vector<mpi::ReportItem> items;
};

// A launch this rank cannot run as asked (its expansion of the file differs from rank 0's, which
// the handshake rules out): the trial fails with the reason, never runs the wrong configuration.
void refuse(Forwarder& out, int64_t record, const std::string& why) {
  Event e;
  e.type = Event::Type::error;
  e.message = why;
  out.on_event(static_cast<size_t>(record), e);
  out.on_finished(static_cast<size_t>(record), {3 << 8, ""});  // exited with code 3, as a worker that threw
}

// Applies one message from rank 0; false once rank 0 says done.
bool handle(const MpiComm::Message& m, const Experiment& exp, LocalTransport& local, Forwarder& out, int rank) {
  const auto kind = mpi::kind_of(m.bytes);
  if (kind == mpi::Kind::launch) {
    const auto l = mpi::decode_launch(m.bytes);
    if (!l) throw Error(fmt::format("rank {}: a launch message from rank 0 is cut short", rank));
    if (l->trial < 0 || static_cast<size_t>(l->trial) >= exp.trials.size() ||
        exp.trials[static_cast<size_t>(l->trial)].identity != l->identity) {
      refuse(out, l->record, fmt::format("rank {} expanded the experiment differently: trial {} is not {} here", rank,
                                         l->trial, l->identity.substr(0, 12)));
      return true;
    }
    local.launch({static_cast<size_t>(l->record), l->run_id, &exp.trials[static_cast<size_t>(l->trial)].config,
                  static_cast<int>(l->threads), l->memory_limit, l->checkpoints});
  } else if (kind == mpi::Kind::stop) {
    local.request_stop(static_cast<int>(mpi::decode_simple(m.bytes).value_or(2)));
  } else if (kind == mpi::Kind::kill) {
    local.kill(static_cast<size_t>(mpi::decode_simple(m.bytes).value_or(-1)));
  } else if (kind == mpi::Kind::done) {
    return false;
  } else {
    throw Error(fmt::format("rank {}: unexpected message from rank {} ({} bytes)", rank, m.source, m.bytes.size()));
  }
  return true;
}

}  // namespace

void serve_trials(MpiComm& comm, const Experiment& exp, int jobs) {
  Forwarder out;
  {
    LocalTransport local(jobs);
    for (bool serving = true; serving;) {
      while (serving)
        if (auto m = comm.try_receive()) serving = handle(*m, exp, local, out, comm.rank());
        else break;
      local.poll(std::chrono::milliseconds(2), out);
      if (!out.items.empty()) {
        comm.send(0, mpi::encode(out.items));
        out.items.clear();
      }
    }
    // Rank 0 says done only when no trial of ours runs; should one still run, the
    // LocalTransport's destructor ends it with its whole tree.
  }
  comm.send(0, mpi::encode_simple(mpi::Kind::bye));
}

}  // namespace gantry
