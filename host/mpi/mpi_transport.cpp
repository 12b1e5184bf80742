#include "mpi/mpi_transport.hpp"

#include "config/experiment.hpp"
#include "mpi/messages.hpp"

#include <gantry/error.hpp>

#include <fmt/format.h>
#include <functional>
#include <numeric>
#include <thread>

namespace gantry {

namespace {

using Clock = std::chrono::steady_clock;

// Counts rank 0's own trials out as LocalTransport reports them finished.
class CountingListener final : public TransportListener {
 public:
  CountingListener(TransportListener& inner, std::function<void(size_t)> on_done)
      : inner_(inner), on_done_(std::move(on_done)) {}
  void on_event(size_t record, const Event& e) override { inner_.on_event(record, e); }
  void on_malformed(size_t record, std::string_view line) override { inner_.on_malformed(record, line); }
  void on_finished(size_t record, const TrialExit& exit) override {
    on_done_(record);
    inner_.on_finished(record, exit);
  }

 private:
  TransportListener& inner_;
  std::function<void(size_t)> on_done_;
};

}  // namespace

MpiTransport::MpiTransport(MpiComm& comm, const Experiment& exp, std::vector<int> slots,
                           std::vector<std::string> hosts)
    : comm_(comm), exp_(exp), slots_(std::move(slots)), busy_(slots_.size(), 0), hosts_(std::move(hosts)) {
  capacity_ = std::accumulate(slots_.begin(), slots_.end(), 0);
  if (capacity_ < 1) throw ConfigError("no rank runs trials (--no-coordinator-trials with a single rank)");
  if (slots_[0] > 0) local_ = std::make_unique<LocalTransport>(slots_[0]);
  for (size_t i = 0; i < exp_.trials.size(); ++i) trial_of_[&exp_.trials[i].config] = i;
}

int MpiTransport::pick_rank() const {
  int best = -1;
  for (int r = 0; r < static_cast<int>(slots_.size()); ++r) {
    if (busy_[r] >= slots_[r]) continue;
    // busy/slots smallest, compared without division; ties go to the lower rank.
    if (best < 0 || static_cast<int64_t>(busy_[r]) * slots_[best] < static_cast<int64_t>(busy_[best]) * slots_[r])
      best = r;
  }
  return best;
}

TrialPlace MpiTransport::launch(const TrialTicket& ticket) {
  const int rank = pick_rank();
  if (rank < 0) throw Error("launch with every rank busy");  // the scheduler respects capacity()
  if (rank == 0) {
    local_->launch(ticket);
  } else {
    mpi::Launch l;
    l.record = static_cast<int64_t>(ticket.record);
    const size_t position = trial_of_.at(ticket.config);
    const Trial& trial = exp_.trials[position];
    l.trial = static_cast<int64_t>(position);
    l.identity = trial.identity;
    l.run_id = ticket.run_id;
    l.threads = ticket.threads;
    l.memory_limit = ticket.memory_limit;
    l.checkpoints = ticket.checkpoints;
    comm_.send(rank, mpi::encode(l));
  }
  where_[ticket.record] = rank;
  ++busy_[rank];
  return {hosts_[static_cast<size_t>(rank)], rank};
}

void MpiTransport::finished(size_t record) {
  const auto it = where_.find(record);
  if (it == where_.end()) return;
  --busy_[it->second];
  where_.erase(it);
}

bool MpiTransport::deliver(std::string_view report, TransportListener& listener) {
  const auto items = mpi::decode_report(report);
  if (!items) return false;
  for (const mpi::ReportItem& i : *items) {
    const auto record = static_cast<size_t>(i.record);
    if (!where_.count(record)) continue;  // not a trial of ours (a bug elsewhere): nothing to attach it to
    if (i.type == mpi::ReportItem::Type::event) {
      if (auto e = parse_event(i.text)) listener.on_event(record, *e);
      else listener.on_malformed(record, i.text);
    } else if (i.type == mpi::ReportItem::Type::malformed) {
      listener.on_malformed(record, i.text);
    } else {
      finished(record);
      listener.on_finished(record, {static_cast<int>(i.wait_status), i.text});
    }
  }
  return true;
}

// Waits on both sources: rank 0's own workers (poll(2) on their pipes, in slices of a few
// milliseconds) and MPI messages (probed between slices), until something arrived or time is up.
void MpiTransport::poll(std::chrono::milliseconds timeout, TransportListener& listener) {
  const auto deadline = Clock::now() + timeout;
  CountingListener counting(listener, [this](size_t record) { finished(record); });
  for (;;) {
    bool delivered = false;
    while (auto m = comm_.try_receive()) {
      if (mpi::kind_of(m->bytes) != mpi::Kind::report || !deliver(m->bytes, listener))
        throw Error(fmt::format("rank {} sent a message that is not a report ({} bytes)", m->source, m->bytes.size()));
      delivered = true;
    }
    const size_t local_before = local_ ? local_->running() : 0;
    if (local_ && local_before > 0) local_->poll(std::chrono::milliseconds(delivered ? 0 : 2), counting);
    else if (!delivered) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (delivered || (local_ && local_->running() < local_before) || Clock::now() >= deadline) return;
  }
}

void MpiTransport::request_stop(int level) {
  if (local_) local_->request_stop(level);
  for (int r = 1; r < static_cast<int>(slots_.size()); ++r) comm_.send(r, mpi::encode_simple(mpi::Kind::stop, level));
}

void MpiTransport::kill(size_t record) {
  const auto it = where_.find(record);
  if (it == where_.end()) return;
  if (it->second == 0) local_->kill(record);
  else comm_.send(it->second, mpi::encode_simple(mpi::Kind::kill, static_cast<int64_t>(record)));
}

}  // namespace gantry
