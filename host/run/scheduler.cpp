#include "run/scheduler.hpp"

#include "store/checkpoints.hpp"
#include "util/process.hpp"

#include <gantry/error.hpp>

#include <algorithm>
#include <fmt/format.h>
#include <iostream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gantry {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The address space one trial may use: its share of the machine's memory, with room for the
// thread stacks and allocator arenas that count as address space without being used.
uint64_t memory_limit_per_job(const RunOptions& options, int jobs) {
  if (options.memory_per_job > 0) return options.memory_per_job;
  // The budget preflight checks against, shared by the jobs, plus 1 GiB of address space that
  // thread stacks and allocator arenas reserve without using.
  return std::max<uint64_t>(trial_memory_budget() / static_cast<uint64_t>(jobs) + (1ull << 30), 2ull << 30);
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Scheduler::Scheduler(const Experiment& exp, ResultStore& store, const RunOptions& options, std::ostream& log,
                     const std::atomic<int>* stop)
    : exp_(exp), store_(store), options_(options), log_(log), stop_(stop) {
  const int jobs = std::max(1, options.jobs);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads_ = options.threads > 0 ? options.threads : std::max(1, cores / jobs);
  timeout_ = options.trial_timeout >= 0 ? options.trial_timeout : exp.timeout;
  options_.memory_per_job = memory_limit_per_job(options, jobs);
}

// Completed runs are kept; failed and diverged ones too when asked. Everything else is queued
// and claimed in the store only when it starts, since another gantry may take it meanwhile.
void Scheduler::plan() {
  size_t skipped = 0;
  for (const Trial& t : exp_.trials) {
    RunRecord rec;
    rec.trial = t.index;
    rec.seed = t.config.seed;
    rec.identity = t.identity;
    if (auto existing = store_.find_run(summary_.experiment_id, t.identity)) {
      const bool badly = existing->status == RunStatus::failed || existing->status == RunStatus::diverged;
      if (!options_.force && (existing->status == RunStatus::completed || (badly && !options_.rerun_failed))) {
        rec.run_id = existing->id;
        rec.status = existing->status;
        rec.skipped = true;
        rec.final_metrics = store_.final_metrics(rec.run_id);
        summary_.runs.push_back(std::move(rec));
        ++skipped;
        continue;
      }
    }
    queue_.push_back(summary_.runs.size());
    summary_.runs.push_back(std::move(rec));
  }
  const bool live = options_.progress == ProgressStyle::live ||
                    (options_.progress == ProgressStyle::automatic && &log_ == &std::cout && isatty(STDOUT_FILENO));
  std::ostream& out = options_.progress == ProgressStyle::quiet ? static_cast<std::ostream&>(quiet_sink_) : log_;
  view_ = std::make_unique<ProgressView>(out, live, exp_.trials.size());
  view_->skipped(skipped);
  if (skipped > 0)
    out << fmt::format("{} of {} trial(s) already done; {} to run (--force reruns all)\n", skipped,
                       exp_.trials.size(), queue_.size());
  report_other_builds(out);
}

// Why trials that ran before run again: their earlier runs used other builds of some plugin
// (the identity covers the binaries), said once per plugin with the build that runs now.
void Scheduler::report_other_builds(std::ostream& out) {
  struct Rebuilt {
    std::string sha256;  // the build that runs now
    std::set<int64_t> runs;
  };
  std::map<std::string, Rebuilt> by_plugin;  // "loss 'hinge'" → its earlier runs
  for (const size_t record : queue_) {
    const Trial& t = exp_.trials[summary_.runs[record].trial];
    for (const auto& [section, run] : store_.runs_of_other_builds(summary_.experiment_id, t))
      for (const PluginChoice* c : t.config.plugins())
        if (c->section == section) {
          Rebuilt& r = by_plugin[fmt::format("{} '{}'", to_string(c->library->kind()), c->plugin())];
          r.sha256 = c->library->sha256;
          r.runs.insert(run);
        }
  }
  for (const auto& [label, r] : by_plugin)
    out << fmt::format("{} earlier run(s) used another build of {} (now sha256 {}); their trials run again\n",
                       r.runs.size(), label, r.sha256.substr(0, 12));
}

void Scheduler::launch_next(TrialTransport& transport) {
  const size_t record = queue_.front();
  queue_.pop_front();
  RunRecord& rec = summary_.runs[record];
  const Trial& trial = exp_.trials[rec.trial];
  const auto claim = store_.claim_run(summary_.experiment_id, trial.config, trial.identity, threads_,
                                      options_.force, options_.rerun_failed, run_owner_alive);
  rec.run_id = claim.run_id;
  if (claim.outcome != ResultStore::Claim::Outcome::started) {
    // Another gantry process finished it since the plan was made, or is running it now.
    rec.status = claim.status;
    rec.skipped = true;
    if (claim.outcome == ResultStore::Claim::Outcome::owned_elsewhere) {
      rec.owned_elsewhere = true;
      rec.error = fmt::format("being run by gantry process {} on {}", claim.owner_pid, claim.owner_host);
    } else {
      rec.final_metrics = store_.final_metrics(rec.run_id);
    }
    view_->skipped(1);
    return;
  }
  Active& a = active_[record];
  a.writer = std::make_unique<RunWriter>(store_, rec.run_id);
  a.start = Clock::now();
  a.steps = trial.config.train.integer("steps");
  a.keys = {"loss.d", "loss.g", "loss.penalty"};
  const bool ema = trial.config.train.real("g_ema") > 0;
  a.note_prefixes.push_back("checkpoint.");
  a.note_prefixes.push_back(trial.config.data.plugin() + ".");  // DataSource::notes
  for (const PluginChoice& m : trial.config.metrics) {
    a.note_prefixes.push_back(m.plugin() + ".");
    for (const MetricKey& k : m.library->descriptor->metric_keys) {
      a.keys.insert(m.plugin() + "." + k.name);
      if (ema) a.keys.insert("raw." + m.plugin() + "." + k.name);
    }
  }
  log_.flush();
  const TrialPlace place =
      transport.launch({record, rec.run_id, &trial.config, threads_, options_.memory_per_job, checkpoint_plan(rec, claim, a)});
  store_.record_place(rec.run_id, place.host, place.rank);
  std::string swept;
  for (size_t c = 0; c < exp_.sweep_columns.size(); ++c)
    if (!trial.swept[c].empty()) swept += fmt::format(" {}={}", exp_.sweep_columns[c], trial.swept[c]);
  view_->started(rec.run_id, fmt::format("[run {} seed {}{}]", rec.run_id, rec.seed, swept));
}

// A resumed run is offered its recorded checkpoints, newest first; a run that starts afresh has
// its folder emptied of an earlier attempt's files (their rows went with the claim).
CheckpointPlan Scheduler::checkpoint_plan(const RunRecord& rec, const ResultStore::Claim& claim, Active& a) {
  const Trial& trial = exp_.trials[rec.trial];
  a.checkpoint_folder = run_checkpoint_folder(rec.run_id, trial.identity);
  a.keep_checkpoints = trial.config.train.integer("keep_checkpoints");
  CheckpointPlan plan{checkpoint_root(store_.path()) / a.checkpoint_folder, {}};
  if (claim.resumes) {
    plan.resume_from = resume_candidates(store_, rec.run_id);
    for (const CheckpointRef& c : plan.resume_from) a.resume_steps.insert(c.step);
  } else {
    std::error_code ec;
    std::filesystem::remove_all(plan.folder, ec);
  }
  return plan;
}

// Recorded with the metrics before it (one transaction), then the oldest beyond keep_checkpoints go.
void Scheduler::on_checkpoint(const RunRecord& rec, Active& a, const Event& e) {
  a.writer->checkpoint_file(e.step, (std::filesystem::path(a.checkpoint_folder) / checkpoint_file_name(e.step)).string(),
                            e.size, e.key);
  a.writer->flush();
  prune_checkpoints(store_, rec.run_id, a.keep_checkpoints);
}

// At the first request each trial ends after its current step; one that has not ended within
// the grace period (a plugin stuck in a loop) is killed, and so is every trial at the second.
void Scheduler::apply_stop(TrialTransport& transport) {
  const int requested = stop_ ? stop_->load() : 0;
  if (requested > stop_seen_) {
    if (stop_seen_ == 0) stop_time_ = Clock::now();
    stop_seen_ = requested;
    transport.request_stop(stop_seen_);
  }
  if (stop_seen_ == 0) return;
  summary_.interrupted = summary_.interrupted || !queue_.empty();
  queue_.clear();
  if (stop_seen_ >= 2 || seconds_since(stop_time_) > options_.stop_grace)
    for (auto& [record, a] : active_)
      if (!a.killed_by_stop) {
        a.killed_by_stop = true;
        transport.kill(record);
      }
}

void Scheduler::enforce_time_limits(TrialTransport& transport) {
  if (timeout_ <= 0) return;
  for (auto& [record, a] : active_)
    if (!a.timed_out && !a.killed_by_stop && seconds_since(a.start) > timeout_) {
      a.timed_out = true;
      transport.kill(record);
    }
}

bool Scheduler::plausible(const Active& a, const Event& e) const {
  constexpr size_t max_artifact_bytes = 16u << 20, max_note_bytes = 4096;
  const bool step_ok = e.step >= 0 && e.step <= a.steps;
  switch (e.type) {
    case Event::Type::metric: return step_ok && a.keys.count(e.key) > 0;
    case Event::Type::progress: return step_ok && e.steps == a.steps;
    case Event::Type::artifact:
      return step_ok && e.key == "samples" && e.mime == "image/png" && e.bytes.size() <= max_artifact_bytes;
    case Event::Type::note:
      return e.key.size() + e.message.size() <= max_note_bytes &&
             std::any_of(a.note_prefixes.begin(), a.note_prefixes.end(),
                         [&](const std::string& p) { return e.key.starts_with(p); });
    case Event::Type::checkpoint: {
      // The file the trial says it wrote must be there, at its name for the step, of its size.
      std::error_code ec;
      const auto file = checkpoint_root(store_.path()) / a.checkpoint_folder / checkpoint_file_name(e.step);
      return e.step >= 1 && e.step <= a.steps && e.key.size() == 64 &&
             e.key.find_first_not_of("0123456789abcdef") == std::string::npos && e.size > 0 &&
             std::filesystem::file_size(file, ec) == static_cast<uintmax_t>(e.size) && !ec;
    }
    case Event::Type::resumed:
      return (e.step == 0 || a.resume_steps.count(e.step) > 0) && e.message.size() <= max_note_bytes;
    default: return true;
  }
}

void Scheduler::on_event(size_t record, const Event& e) {
  Active& a = active_.at(record);
  if (!plausible(a, e)) {
    on_malformed(record, fmt::format("{} event for key '{}' at step {} is not one this trial sends",
                                     e.type == Event::Type::artifact     ? "artifact"
                                     : e.type == Event::Type::note       ? "note"
                                     : e.type == Event::Type::checkpoint ? "checkpoint"
                                     : e.type == Event::Type::resumed    ? "resume"
                                                                         : "metric",
                                     e.key.substr(0, 80), e.step));
    return;
  }
  switch (e.type) {
    case Event::Type::metric:
      a.writer->metric(e.step, e.key, e.value);
      a.last_step = std::max(a.last_step, e.step);
      break;
    case Event::Type::flush: a.writer->flush(); break;
    case Event::Type::progress:
      view_->step(summary_.runs[record].run_id, e.step, e.steps, e.d_loss, e.g_loss);
      a.last_step = std::max(a.last_step, e.step);
      break;
    case Event::Type::artifact: a.writer->artifact(e.step, e.key, e.mime, e.bytes); break;
    case Event::Type::note: a.writer->note(e.key, e.message); break;
    case Event::Type::checkpoint: on_checkpoint(summary_.runs[record], a, e); break;
    case Event::Type::resumed:
      a.writer->flush();
      rewind_run(store_, summary_.runs[record].run_id, e.step, e.message);
      a.last_step = e.step;
      break;
    case Event::Type::result: a.result = e.result; break;
    case Event::Type::error: a.error = e.message; break;
  }
}

void Scheduler::on_malformed(size_t record, std::string_view line) {
  std::string& m = active_.at(record).malformed;
  if (m.size() < 2000) m += fmt::format("(malformed event: {})\n", line.substr(0, 200));
}

// What the trial's end means for its run: the reason gantry stopped it, else its own verdict
// (trusted only from a worker that then exited normally: a plugin can write a forged one into
// the event pipe and crash after it), else how its process died, with the tail of what it printed.
void Scheduler::settle(RunRecord& rec, Active& a, const TrialExit& exit) {
  const bool exited_normally = WIFEXITED(exit.wait_status) && WEXITSTATUS(exit.wait_status) == 0;
  if (a.timed_out) {
    rec.status = RunStatus::failed;
    rec.error = fmt::format("timeout: stopped after {:g} s", timeout_);
  } else if (a.result && exited_normally) {
    rec.status = a.result->outcome == TrialOutcome::completed  ? RunStatus::completed
                 : a.result->outcome == TrialOutcome::diverged ? RunStatus::diverged
                                                               : RunStatus::interrupted;
    rec.error = a.result->message;
    a.last_step = std::max(a.last_step, a.result->step);
  } else if (!a.error.empty() && !WIFSIGNALED(exit.wait_status)) {
    rec.status = RunStatus::failed;
    rec.error = a.error;
  } else if (a.killed_by_stop || stop_seen_ > 0) {
    rec.status = RunStatus::interrupted;
    rec.error = "interrupted";
  } else {
    rec.status = RunStatus::failed;
    rec.error = WIFSIGNALED(exit.wait_status)
                    ? wait_status_text(exit.wait_status)
                    : fmt::format("worker exited with code {} without a result", WEXITSTATUS(exit.wait_status));
    const std::string tail = trimmed(a.malformed + exit.stderr_tail);
    if (!tail.empty()) rec.error += "\nstderr:\n" + tail;
  }
}

void Scheduler::on_finished(size_t record, const TrialExit& exit) {
  auto it = active_.find(record);
  Active& a = it->second;
  RunRecord& rec = summary_.runs[record];
  settle(rec, a, exit);
  if (rec.status == RunStatus::interrupted) summary_.interrupted = true;
  try {
    a.writer->flush();  // what was measured before the end is kept
  } catch (const std::exception& e) {
    log_ << fmt::format("run {}: could not save its last metrics: {}\n", rec.run_id, e.what());
  }
  rec.wall_seconds = seconds_since(a.start);
  store_.finish_run(rec.run_id, rec.status, rec.error, a.last_step, rec.wall_seconds);
  rec.final_metrics = store_.final_metrics(rec.run_id);
  const std::string first_line = rec.error.substr(0, rec.error.find('\n'));
  view_->finished(rec.run_id,
                  fmt::format("[run {} seed {}] {} in {:.1f} s{}", rec.run_id, rec.seed, to_string(rec.status),
                              rec.wall_seconds, first_line.empty() ? "" : ": " + first_line),
                  rec.status == RunStatus::failed);
  active_.erase(it);
}

void Scheduler::report_owned_elsewhere() {
  std::map<std::string, size_t> owners;
  for (const RunRecord& r : summary_.runs)
    if (r.owned_elsewhere) ++owners[r.error];
  for (const auto& [owner, n] : owners)
    log_ << fmt::format("{} trial(s) skipped: {} (run the same command after it ends to see them)\n", n,
                        owner.substr(owner.find("gantry")));
}

RunSummary Scheduler::run(TrialTransport& transport) {
  summary_.recovered = recover_stale_runs(store_);
  if (summary_.recovered > 0)
    log_ << fmt::format("{} run(s) left running by a stopped gantry marked interrupted\n", summary_.recovered);
  summary_.experiment_id = store_.upsert_experiment(exp_);
  store_.record_plugin_builds(exp_);
  plan();
  while (!queue_.empty() || !active_.empty()) {
    apply_stop(transport);
    while (stop_seen_ == 0 && !queue_.empty() && static_cast<int>(active_.size()) < transport.capacity())
      launch_next(transport);
    if (active_.empty()) break;
    transport.poll(std::chrono::milliseconds(200), *this);
    enforce_time_limits(transport);
    view_->tick();
  }
  view_->close();
  report_owned_elsewhere();
  // Trials never started because of an interrupt are dropped from the summary.
  std::erase_if(summary_.runs, [](const RunRecord& r) { return r.run_id == 0; });
  return summary_;
}

}  // namespace gantry
