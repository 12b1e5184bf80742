#include "run/runner.hpp"

#include "run/local_transport.hpp"
#include "run/scheduler.hpp"
#include "train/trainer.hpp"
#include "util/process.hpp"

#include <gantry/metric.hpp>

#include <cerrno>
#include <csignal>
#include <fmt/format.h>
#include <fstream>
#include <optional>
#include <set>
#include <sys/resource.h>
#include <unistd.h>

namespace gantry {

namespace {

using Clock = std::chrono::steady_clock;

double cpu_seconds() {
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  return static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(self.ru_utime.tv_usec + self.ru_stime.tv_usec);
}

}  // namespace

bool RunSummary::any_failed() const {
  for (const auto& r : runs)
    if (r.status == RunStatus::failed) return true;
  return false;
}

namespace {

// A killed gantry whose parent (a shell, mpirun) has not reaped it yet is a zombie: kill(pid, 0)
// still succeeds, but it will never write again. Its state is the letter after "(comm) ".
bool zombie(int64_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t end = line.rfind(')');
  return end != std::string::npos && end + 2 < line.size() && (line[end + 2] == 'Z' || line[end + 2] == 'X');
}

}  // namespace

bool run_owner_alive(int64_t pid, const std::string& host) {
  // A run started on another machine cannot be checked from here: assume it is alive.
  if (host != host_name()) return true;
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) && !zombie(pid);
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
                          const std::atomic<int>* stop, TrialTransport* transport) {
  const auto t0 = Clock::now();
  const double cpu0 = cpu_seconds();
  std::set<std::string> described;  // each metric plugin once, however many trials use it
  for (const Trial& t : exp.trials)
    for (const auto& m : t.config.metrics) {
      if (described.insert(m.plugin()).second)
        store.record_metric_keys(m.plugin(), m.library->descriptor->metric_keys, m.library->descriptor->primary_key);
      // An EMA generator's runs keep G's own values under "raw.", never the key to rank by.
      if (t.config.train.real("g_ema") > 0 && described.insert("raw." + m.plugin()).second)
        store.record_metric_keys("raw." + m.plugin(), m.library->descriptor->metric_keys, "");
    }
  store.record_metric_keys("loss", {{"d", Direction::lower_is_better, "discriminator loss"},
                                    {"g", Direction::lower_is_better, "generator loss"}},
                           "");
  std::optional<LocalTransport> local;
  if (!transport) transport = &local.emplace(options.jobs);
  RunSummary summary = Scheduler(exp, store, options, log, stop).run(*transport);
  summary.parent_cpu_seconds = cpu_seconds() - cpu0;
  summary.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return summary;
}

}  // namespace gantry
