#include "run/runner.hpp"

#include "run/progress.hpp"
#include "run/protocol.hpp"
#include "train/trainer.hpp"

#include <gantry/engine.hpp>
#include <gantry/error.hpp>
#include <gantry/metric.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fmt/format.h>
#include <iostream>
#include <poll.h>
#include <set>
#include <sstream>
#include <new>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gantry {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t stderr_tail_bytes = 2000;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string this_host() {
  char buf[256] = {};
  return gethostname(buf, sizeof buf - 1) == 0 ? buf : "unknown";
}

// A worker process running one trial, seen from the parent.
struct Worker {
  size_t record = 0;  // index into summary.runs
  pid_t pid = -1;
  int events_fd = -1, stderr_fd = -1;
  std::string events_buf, stderr_tail;
  std::unique_ptr<RunWriter> writer;
  std::optional<TrialResult> result;
  std::string error;
  Clock::time_point start;
  bool timed_out = false;
  int64_t last_step = 0;
};

// In the child: run the trial and report over `fd`; never returns.
[[noreturn]] void worker_main(const TrialConfig& trial, int threads, int fd, const std::atomic<int>* stop) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // a parent killed with -9 takes its workers with it
  // Workers never take SIGINT or SIGTERM: the parent relays stop requests through shared memory.
  // A handler run on a worker's stack in the middle of a oneDNN JIT kernel corrupted the heap
  // (seen as malloc aborts after Ctrl-C), and a worker has nothing to clean up that _exit skips.
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, nullptr);
  set_num_threads(threads);
  PipeSink sink(fd);
  int code = 0;
  try {
    Trainer trainer(trial, sink, stop);
    sink.result(trainer.run());
  } catch (const std::exception& e) {
    sink.error(e.what());
    code = 3;
  } catch (...) {
    sink.error("unknown exception");
    code = 3;
  }
  // _exit: no destructors, no atexit handlers — the parent's database connection, inherited
  // through fork, must not be touched here.
  std::fflush(stderr);
  _exit(code);
}

std::string signal_text(int sig) {
  const char* name = sigabbrev_np(sig);
  return fmt::format("killed by signal SIG{} ({})", name ? name : "?", strsignal(sig));
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void read_available(int& fd, std::string& into, bool keep_tail_only) {
  char buf[8192];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<size_t>(n));
      if (keep_tail_only && into.size() > 4 * stderr_tail_bytes) into.erase(0, into.size() - stderr_tail_bytes);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    close_fd(fd);  // EOF or error
    return;
  }
}

}  // namespace

bool RunSummary::any_failed() const {
  for (const auto& r : runs)
    if (r.status == RunStatus::failed) return true;
  return false;
}

bool run_owner_alive(int64_t pid, const std::string& host) {
  // A run started on another machine cannot be checked from here: assume it is alive.
  if (host != this_host()) return true;
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

int recover_stale_runs(ResultStore& store) {
  auto st = store.db().prepare("SELECT id, pid, host FROM runs WHERE status IN ('running', 'queued')");
  std::vector<int64_t> dead;
  while (st.step())
    if (!run_owner_alive(st.column_int(1), st.column_text(2))) dead.push_back(st.column_int(0));
  for (int64_t id : dead)
    store.finish_run(id, RunStatus::interrupted, "interrupted: the process running it stopped", 0, 0);
  return static_cast<int>(dead.size());
}

RunSummary run_experiment(const Experiment& exp, ResultStore& store, const RunOptions& options, std::ostream& log,
                          const std::atomic<int>* stop) {
  const auto t0 = Clock::now();
  auto cpu_seconds = [] {
    rusage self{};
    getrusage(RUSAGE_SELF, &self);
    return static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(self.ru_utime.tv_usec + self.ru_stime.tv_usec);
  };
  const double cpu0 = cpu_seconds();
  RunSummary summary;
  summary.recovered = recover_stale_runs(store);
  if (summary.recovered > 0)
    log << fmt::format("{} run(s) left running by a stopped gantry marked interrupted\n", summary.recovered);
  summary.experiment_id = store.upsert_experiment(exp);
  std::set<std::string> described;  // each metric plugin once, however many trials use it
  for (const Trial& t : exp.trials)
    for (const auto& m : t.config.metrics)
      if (described.insert(m.plugin()).second) {
        store.record_metric_keys(m.plugin(), m.library->descriptor->metric_keys);
      }
  store.record_metric_keys("loss", {{"d", Direction::lower_is_better, "discriminator loss"},
                                    {"g", Direction::lower_is_better, "generator loss"}});

  const int jobs = std::max(1, options.jobs);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = options.threads > 0 ? options.threads : std::max(1, cores / jobs);
  const double timeout = options.trial_timeout >= 0 ? options.trial_timeout : exp.timeout;

  // Decide what runs: completed ones are kept; failed and diverged ones unless asked to keep them.
  std::deque<size_t> queue;
  size_t skipped = 0;
  for (const Trial& t : exp.trials) {
    RunRecord rec;
    rec.trial = t.index;
    rec.seed = t.config.seed;
    rec.identity = t.identity;
    if (auto existing = store.find_run(summary.experiment_id, t.identity)) {
      const bool finished_badly = existing->status == RunStatus::failed || existing->status == RunStatus::diverged;
      if (!options.force && (existing->status == RunStatus::completed || (finished_badly && !options.rerun_failed))) {
        rec.run_id = existing->id;
        rec.status = existing->status;
        rec.skipped = true;
        rec.final_metrics = store.final_metrics(rec.run_id);
        summary.runs.push_back(std::move(rec));
        ++skipped;
        continue;
      }
    }
    queue.push_back(summary.runs.size());
    summary.runs.push_back(std::move(rec));
  }

  const bool live = options.progress == ProgressStyle::live ||
                    (options.progress == ProgressStyle::automatic && &log == &std::cout && isatty(STDOUT_FILENO));
  std::ostringstream sink_stream;
  std::ostream& view_out = options.progress == ProgressStyle::quiet ? static_cast<std::ostream&>(sink_stream) : log;
  ProgressView view(view_out, live, exp.trials.size());
  view.skipped(skipped);
  if (skipped > 0)
    view_out << fmt::format("{} of {} trial(s) already done; {} to run (--force reruns all)\n", skipped,
                            exp.trials.size(), queue.size());

  std::vector<Worker> workers;
  int stop_seen = 0;
  // The stop request as the workers see it: one int in memory shared with every forked child.
  void* shared = mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) throw Error(fmt::format("cannot map shared memory: {}", std::strerror(errno)));
  auto* worker_stop = new (shared) std::atomic<int>(0);
  struct Unmap {
    void* p;
    ~Unmap() { munmap(p, sizeof(std::atomic<int>)); }
  } unmap{shared};

  auto finalize = [&](Worker& w) {
    RunRecord& rec = summary.runs[w.record];
    int wstatus = 0;
    while (waitpid(w.pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    if (w.timed_out) {
      rec.status = RunStatus::failed;
      rec.error = fmt::format("timeout: stopped after {:g} s", timeout);
    } else if (w.result) {
      rec.status = w.result->outcome == TrialOutcome::completed  ? RunStatus::completed
                   : w.result->outcome == TrialOutcome::diverged ? RunStatus::diverged
                                                                 : RunStatus::interrupted;
      rec.error = w.result->message;
      w.last_step = std::max(w.last_step, w.result->step);
    } else if (!w.error.empty()) {
      rec.status = RunStatus::failed;
      rec.error = w.error;
    } else if (stop_seen >= 2) {
      rec.status = RunStatus::interrupted;
      rec.error = "interrupted";
    } else {
      rec.status = RunStatus::failed;
      rec.error = WIFSIGNALED(wstatus) ? signal_text(WTERMSIG(wstatus))
                                       : fmt::format("worker exited with code {} without a result", WEXITSTATUS(wstatus));
      // The tail of what the plugin printed usually says why.
      std::string tail = w.stderr_tail.size() > stderr_tail_bytes
                             ? w.stderr_tail.substr(w.stderr_tail.size() - stderr_tail_bytes)
                             : w.stderr_tail;
      while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
      if (!tail.empty()) rec.error += "\nstderr:\n" + tail;
    }
    if (rec.status == RunStatus::interrupted) summary.interrupted = true;
    try {
      w.writer->flush();  // what was measured before the end is kept
    } catch (const std::exception& e) {
      log << fmt::format("run {}: could not save its last metrics: {}\n", rec.run_id, e.what());
    }
    rec.wall_seconds = seconds_since(w.start);
    store.finish_run(rec.run_id, rec.status, rec.error, w.last_step, rec.wall_seconds);
    rec.final_metrics = store.final_metrics(rec.run_id);
    const std::string first_line = rec.error.substr(0, rec.error.find('\n'));
    view.finished(rec.run_id,
                  fmt::format("[run {} seed {}] {} in {:.1f} s{}", rec.run_id, rec.seed, to_string(rec.status),
                              rec.wall_seconds, first_line.empty() ? "" : ": " + first_line),
                  rec.status == RunStatus::failed);
  };

  auto launch = [&](size_t record) {
    RunRecord& rec = summary.runs[record];
    const Trial& trial = exp.trials[rec.trial];
    rec.run_id = store.start_run(summary.experiment_id, trial.config, trial.identity, threads);
    int events[2], errs[2];
    if (pipe2(events, O_CLOEXEC) != 0 || pipe2(errs, O_CLOEXEC) != 0)
      throw Error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
    std::fflush(nullptr);
    log.flush();
    const pid_t pid = fork();
    if (pid < 0) throw Error(fmt::format("cannot start a worker: {}", std::strerror(errno)));
    if (pid == 0) {
      ::close(events[0]);
      ::close(errs[0]);
      dup2(errs[1], STDERR_FILENO);
      const int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
      for (Worker& other : workers) {
        ::close(other.events_fd);
        ::close(other.stderr_fd);
      }
      worker_main(trial.config, threads, events[1], worker_stop);
    }
    ::close(events[1]);
    ::close(errs[1]);
    fcntl(events[0], F_SETFL, O_NONBLOCK);
    fcntl(errs[0], F_SETFL, O_NONBLOCK);
    Worker w;
    w.record = record;
    w.pid = pid;
    w.events_fd = events[0];
    w.stderr_fd = errs[0];
    w.writer = std::make_unique<RunWriter>(store, rec.run_id);
    w.start = Clock::now();
    workers.push_back(std::move(w));
    std::string swept;
    for (size_t c = 0; c < exp.sweep_columns.size(); ++c)
      if (!trial.swept[c].empty()) swept += fmt::format(" {}={}", exp.sweep_columns[c], trial.swept[c]);
    view.started(rec.run_id, fmt::format("[run {} seed {}{}]", rec.run_id, rec.seed, swept));
  };

  auto handle_line = [&](Worker& w, std::string_view line) {
    const auto e = parse_event(line);
    if (!e) {
      w.stderr_tail += fmt::format("(malformed event: {})\n", line);
      return;
    }
    switch (e->type) {
      case Event::Type::metric:
        w.writer->metric(e->step, e->key, e->value);
        w.last_step = std::max(w.last_step, e->step);
        break;
      case Event::Type::flush: w.writer->flush(); break;
      case Event::Type::progress:
        view.step(summary.runs[w.record].run_id, e->step, e->steps, e->d_loss, e->g_loss);
        w.last_step = std::max(w.last_step, e->step);
        break;
      case Event::Type::artifact: w.writer->artifact(e->step, e->key, e->mime, e->bytes); break;
      case Event::Type::note: w.writer->note(e->key, e->message); break;
      case Event::Type::result: w.result = e->result; break;
      case Event::Type::error: w.error = e->message; break;
    }
  };

  while (!queue.empty() || !workers.empty()) {
    const int requested = stop ? stop->load() : 0;
    if (requested > stop_seen) {
      stop_seen = requested;
      worker_stop->store(stop_seen);  // at 1 each worker ends its trial after the current step
      if (stop_seen >= 2)
        for (Worker& w : workers) ::kill(w.pid, SIGKILL);
    }
    while (stop_seen == 0 && !queue.empty() && static_cast<int>(workers.size()) < jobs) {
      launch(queue.front());
      queue.pop_front();
    }
    if (stop_seen > 0) {
      summary.interrupted = summary.interrupted || !queue.empty();
      queue.clear();
    }
    if (workers.empty()) break;

    std::vector<pollfd> fds;
    for (const Worker& w : workers) {
      fds.push_back({w.events_fd, POLLIN, 0});
      fds.push_back({w.stderr_fd, POLLIN, 0});
    }
    ::poll(fds.data(), fds.size(), 200);
    for (Worker& w : workers) {
      if (w.events_fd >= 0) read_available(w.events_fd, w.events_buf, false);
      if (w.stderr_fd >= 0) read_available(w.stderr_fd, w.stderr_tail, true);
      size_t nl;
      while ((nl = w.events_buf.find('\n')) != std::string::npos) {
        handle_line(w, std::string_view(w.events_buf).substr(0, nl));
        w.events_buf.erase(0, nl + 1);
      }
      if (timeout > 0 && !w.timed_out && seconds_since(w.start) > timeout) {
        w.timed_out = true;
        ::kill(w.pid, SIGKILL);
      }
    }
    for (size_t i = 0; i < workers.size();) {
      if (workers[i].events_fd < 0 && workers[i].stderr_fd < 0) {
        finalize(workers[i]);
        workers.erase(workers.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    view.tick();
  }
  view.close();

  // Trials never started because of an interrupt are dropped from the summary.
  std::erase_if(summary.runs, [](const RunRecord& r) { return r.run_id == 0; });
  summary.parent_cpu_seconds = cpu_seconds() - cpu0;
  summary.wall_seconds = seconds_since(t0);
  return summary;
}

}  // namespace gantry
