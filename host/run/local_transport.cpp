#include "run/local_transport.hpp"

#include "train/trainer.hpp"

#include <gantry/engine.hpp>
#include <gantry/error.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <new>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace gantry {

namespace {

constexpr size_t stderr_tail_bytes = 2000;
// Longer than any event gantry's trainer sends (the largest is a sample grid, a few hundred KiB
// in base64): a worker that sends more without a newline is not speaking the protocol.
constexpr size_t max_event_line = 64u << 20;
constexpr int events_fd = 3;  // where a worker finds its event pipe (keep_only_fds)

// The trial itself, in the contained process: report over the event pipe, return the exit code.
int trial_main(const TrialTicket& ticket, const std::atomic<int>* stop) {
  limit_address_space(ticket.memory_limit);
  set_num_threads(ticket.threads);
  PipeSink sink(events_fd);
  try {
    Trainer trainer(*ticket.config, sink, stop);
    trainer.checkpoints(ticket.checkpoints);
    sink.result(trainer.run());
    return 0;
  } catch (const std::bad_alloc&) {
    sink.error(fmt::format("out of memory: the trial needed more than the {:.1f} GiB of address space a job has",
                           static_cast<double>(ticket.memory_limit) / (1 << 30)));
  } catch (const std::exception& e) {
    sink.error(e.what());
  } catch (...) {
    sink.error("unknown exception");
  }
  return 3;
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Appends what `fd` has now; resets it at end of file. Never blocks (the fd is non-blocking).
void read_available(UniqueFd& fd, std::string& into, bool keep_tail_only) {
  char buf[8192];
  while (fd.valid()) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<size_t>(n));
      if (keep_tail_only && into.size() > 4 * stderr_tail_bytes) into.erase(0, into.size() - stderr_tail_bytes);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    fd.reset();  // end of file or error
  }
}

std::string tail_of(const std::string& s) {
  return s.size() > stderr_tail_bytes ? s.substr(s.size() - stderr_tail_bytes) : s;
}

}  // namespace

LocalTransport::LocalTransport(int jobs) : jobs_(std::max(1, jobs)) {
  void* shared = mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) throw Error(fmt::format("cannot map shared memory: {}", std::strerror(errno)));
  stop_ = new (shared) std::atomic<int>(0);
  containment();  // decided here, once, so no worker has to probe
  become_subreaper();  // a worker killed on timeout leaves its orphans to us, not to init
}

LocalTransport::~LocalTransport() {
  for (auto& w : workers_) {
    if (!w->ended) {
      kill_process_tree(w->pid, true);
      while (waitpid(w->pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
  end_stray_children({});
  munmap(stop_, sizeof(std::atomic<int>));
}

TrialPlace LocalTransport::launch(const TrialTicket& ticket) {
  Pipe events = Pipe::make(), errors = Pipe::make();
  std::fflush(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw Error(fmt::format("cannot start a worker: {}", std::strerror(errno)));
  if (pid == 0) {
    // Only the two pipes survive: a plugin cannot reach the database or the other workers'
    // pipes through an inherited descriptor.
    keep_only_fds(errors.write.get(), events.write.get());
    const std::atomic<int>* stop = stop_;
    run_contained(parent, [&ticket, stop] { return trial_main(ticket, stop); });
  }
  auto w = std::make_unique<Worker>();
  w->record = ticket.record;
  w->pid = pid;
  w->events = std::move(events.read);
  w->errors = std::move(errors.read);
  w->exited = UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  set_nonblocking(w->events.get());
  set_nonblocking(w->errors.get());
  workers_.push_back(std::move(w));
  return {host_name(), -1};
}

void LocalTransport::request_stop(int level) { stop_->store(level); }

void LocalTransport::kill(size_t record) {
  for (auto& w : workers_)
    if (w->record == record && !w->ended) kill_process_tree(w->pid, true);
}

void LocalTransport::read_events(Worker& w, TransportListener& listener) {
  read_available(w.events, w.events_buf, false);
  read_available(w.errors, w.stderr_tail, true);
  if (w.overflowed) {
    w.events_buf.clear();
    return;
  }
  size_t start = 0, nl;
  while ((nl = w.events_buf.find('\n', start)) != std::string::npos) {
    const std::string_view line = std::string_view(w.events_buf).substr(start, nl - start);
    if (auto e = parse_event(line)) listener.on_event(w.record, *e);
    else listener.on_malformed(w.record, line);
    start = nl + 1;
  }
  w.events_buf.erase(0, start);
  if (w.events_buf.size() > max_event_line) {
    listener.on_malformed(w.record, fmt::format("an event line of over {} MiB: the trial was stopped", max_event_line >> 20));
    w.events_buf.clear();
    w.overflowed = true;
    if (!w.ended) kill_process_tree(w.pid, true);
  }
}

void LocalTransport::reap_if_ended(Worker& w) {
  int status = 0;
  const pid_t done = waitpid(w.pid, &status, WNOHANG);
  if (done != w.pid) return;
  w.ended = true;
  w.wait_status = status;
}

void LocalTransport::poll(std::chrono::milliseconds timeout, TransportListener& listener) {
  std::vector<pollfd> fds;
  for (const auto& w : workers_)
    for (const UniqueFd* fd : {&w->events, &w->errors, &w->exited})
      if (fd->valid()) fds.push_back({fd->get(), POLLIN, 0});
  ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));

  for (size_t i = 0; i < workers_.size();) {
    Worker& w = *workers_[i];
    read_events(w, listener);
    reap_if_ended(w);
    if (!w.ended) {
      ++i;
      continue;
    }
    // The worker is gone and took its trial's processes with it, except when it was killed
    // itself in subreaper mode: its orphans came to us. End them, then read what is left
    // without waiting for anyone else who might hold the pipes.
    std::vector<pid_t> live;
    for (const auto& o : workers_)
      if (!o->ended) live.push_back(o->pid);
    end_stray_children(live);
    read_events(w, listener);
    if (!w.events_buf.empty()) listener.on_malformed(w.record, w.events_buf);
    const TrialExit exit{w.wait_status, tail_of(w.stderr_tail)};
    const size_t record = w.record;
    workers_.erase(workers_.begin() + static_cast<std::ptrdiff_t>(i));
    listener.on_finished(record, exit);
  }
}

}  // namespace gantry
