#include "run/preflight.hpp"

#include "util/process.hpp"
#include "util/source_pos.hpp"
#include "train/trainer.hpp"

#include <gantry/engine.hpp>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <fmt/format.h>
#include <fcntl.h>
#include <map>
#include <optional>
#include <poll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace gantry {

namespace {

using Clock = std::chrono::steady_clock;

class Silent final : public EventSink {
 public:
  void metric(int64_t, std::string_view, double) override {}
};

// What one trial of a configuration needs: the models, a step's buffers per sample of the batch,
// and the evaluation sample.
struct Need {
  uint64_t build = 0, per_sample = 0, per_eval_sample = 0;
  double bytes(const TrialConfig& c) const {
    return static_cast<double>(build) + static_cast<double>(per_sample) * static_cast<double>(c.train.integer("batch_size")) +
           static_cast<double>(per_eval_sample) * static_cast<double>(c.train.integer("eval_samples"));
  }
};

// What a rehearsal said: "ok", a problem in a section, or that it ran out of memory.
struct Verdict {
  enum class Kind { ok, problem, out_of_memory, crashed, timed_out } kind = Kind::crashed;
  std::string section, message;
  Need need;
};

// Settings that cannot change whether a trial builds or how much memory it needs.
bool irrelevant_to_building(const std::string& key) {
  return key.starts_with("optimizer.") || key == "train.steps" || key == "train.log_every" ||
         key == "train.eval_every" || key == "train.n_critic";
}

std::string config_key(const TrialConfig& c) {
  std::string key;
  for (const auto& [k, v] : config_leaves(c))
    if (!irrelevant_to_building(k)) key += fmt::format("{}={}\n", k, to_string(v));
  return key;
}

std::string gib(double bytes) {
  if (bytes < (1ull << 30)) return fmt::format("{:.0f} MiB", bytes / (1ull << 20));
  return fmt::format("{:.1f} GiB", bytes / (1ull << 30));
}

// In the rehearsal's process: first a step at a batch of at most 8, which measures the cost per
// sample without needing the real batch's memory; then, if the estimate fits the budget, a step
// at the real batch size (some problems only show there). Writes "kind\tsection\tmessage" or
// "ok\t\tbuild\tper_sample\tper_eval_sample" to fd 3.
int rehearse_here(const TrialConfig& config, uint64_t limit, uint64_t budget) {
  limit_address_space(limit);
  set_num_threads(1);
  Silent sink;
  std::string out;
  try {
    const Trainer::Cost cost = Trainer(config, sink).rehearse(8);
    const int64_t batch = cost.batch;
    Need need{cost.build_bytes, (cost.train_bytes - std::min(cost.train_bytes, cost.build_bytes)) / static_cast<uint64_t>(batch),
              cost.eval_sample_bytes};
    if (need.bytes(config) <= static_cast<double>(budget) && batch < config.train.integer("batch_size"))
      Trainer(config, sink).rehearse();
    out = fmt::format("ok\t\t{}\t{}\t{}", need.build, need.per_sample, need.per_eval_sample);
  } catch (const std::bad_alloc&) {
    out = "memory\t\t";
  } catch (const SectionError& e) {
    out = e.out_of_memory() ? fmt::format("memory\t{}\t", e.section())
                            : fmt::format("problem\t{}\t{}", e.section(), e.what());
  } catch (const std::exception& e) {
    out = fmt::format("problem\ttrain\tone training step failed: {}", e.what());
  }
  return ::write(3, out.data(), out.size()) == static_cast<ssize_t>(out.size()) ? 0 : 4;
}

std::optional<uint64_t> number_of(std::string_view text) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// The child's line, read defensively: plugin code ran in that process and could have written
// anything to fd 3. Anything unreadable counts as a crash.
Verdict parse_verdict(const std::string& line) {
  Verdict v;
  v.message = "it sent an unreadable verdict";
  const size_t a = line.find('\t'), b = a == std::string::npos ? a : line.find('\t', a + 1);
  if (b == std::string::npos) return v;
  const std::string kind = line.substr(0, a), rest = line.substr(b + 1);
  const std::string section = line.substr(a + 1, b - a - 1);
  if (kind == "ok") {
    const size_t t1 = rest.find('\t'), t2 = t1 == std::string::npos ? t1 : rest.find('\t', t1 + 1);
    if (t2 == std::string::npos) return v;
    const auto build = number_of(std::string_view(rest).substr(0, t1));
    const auto per_sample = number_of(std::string_view(rest).substr(t1 + 1, t2 - t1 - 1));
    const auto per_eval = number_of(std::string_view(rest).substr(t2 + 1));
    if (!build || !per_sample || !per_eval) return v;
    v.kind = Verdict::Kind::ok;
    v.need = {*build, *per_sample, *per_eval};
  } else if (kind == "memory" || kind == "problem") {
    v.kind = kind == "memory" ? Verdict::Kind::out_of_memory : Verdict::Kind::problem;
    v.section = printable(section, 80);
    v.message = printable(rest);
  }
  return v;
}

// Reads the child's verdict until it ends or the deadline passes; never waits past it.
Verdict await_verdict(pid_t pid, UniqueFd& result, UniqueFd& errors, double seconds) {
  std::string out, err;
  UniqueFd exited(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  bool ended = false;
  while (!ended) {
    if (Clock::now() > deadline) {
      kill_process_tree(pid, true);
      waitpid(pid, nullptr, 0);
      Verdict v;
      v.kind = Verdict::Kind::timed_out;
      return v;
    }
    pollfd fds[3] = {{result.get(), POLLIN, 0}, {errors.get(), POLLIN, 0}, {exited.get(), POLLIN, 0}};
    ::poll(fds, 3, 100);
    char buf[4096];
    for (auto [fd, into] : {std::pair{&result, &out}, std::pair{&errors, &err}}) {
      ssize_t n;
      while (fd->valid() && (n = ::read(fd->get(), buf, sizeof buf)) != 0) {
        if (n < 0) break;  // EAGAIN: nothing more now
        if (into->size() < 65536) into->append(buf, static_cast<size_t>(n));
      }
    }
    ended = waitpid(pid, &status, WNOHANG) == pid;
  }
  if (!out.empty()) return parse_verdict(out);
  Verdict v;
  v.message = wait_status_text(status);
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  if (!err.empty()) v.message += ": " + err.substr(err.rfind('\n') == std::string::npos ? 0 : err.rfind('\n') + 1);
  return v;
}

Verdict rehearse_in_child(const TrialConfig& config, uint64_t limit, uint64_t budget, double seconds) {
  Pipe result = Pipe::make(), errors = Pipe::make();
  const pid_t parent = getpid();
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return {};
  if (pid == 0) {
    keep_only_fds(errors.write.get(), result.write.get());
    run_contained(parent, [&config, limit, budget] { return rehearse_here(config, limit, budget); });
  }
  result.write.reset();
  errors.write.reset();
  fcntl(result.read.get(), F_SETFL, O_NONBLOCK);
  fcntl(errors.read.get(), F_SETFL, O_NONBLOCK);
  return await_verdict(pid, result.read, errors.read, seconds);
}

// The memory a trial of this config needs against what a job has; a problem when over.
std::optional<std::string> memory_problem(const Experiment& exp, const TrialConfig& config, const Need& need,
                                          uint64_t per_job, const PreflightOptions& options) {
  const double total = need.bytes(config);
  if (total <= static_cast<double>(per_job)) return std::nullopt;
  const double eval_n = static_cast<double>(config.train.integer("eval_samples"));
  const double eval = eval_n * static_cast<double>(need.per_eval_sample);
  const std::string where = eval > total - eval ? "train.eval_samples" : "train.batch_size";
  return fmt::format("{}: a trial needs about {} ({} to train at batch size {}, {} to evaluate {:g} samples), more "
                     "than the {} a job has ({} of memory / {} job(s))",
                     exp.position_of(where).str(), gib(total), gib(total - eval), config.train.integer("batch_size"),
                     gib(eval), eval_n, gib(static_cast<double>(per_job)), gib(static_cast<double>(options.memory_budget)),
                     options.jobs);
}

void record(const Experiment& exp, const Trial& trial, const Verdict& v, uint64_t per_job,
            const PreflightOptions& options, PreflightReport& report) {
  const std::string label = fmt::format("trial {}", trial.index);
  switch (v.kind) {
    case Verdict::Kind::ok:
      if (auto p = memory_problem(exp, trial.config, v.need, per_job, options)) report.problems.push_back(*p);
      break;
    case Verdict::Kind::problem:
      report.problems.push_back(fmt::format("{}: [{}] {}", exp.position_of(v.section).str(), v.section, v.message));
      break;
    case Verdict::Kind::out_of_memory: {
      const std::string section = v.section.empty() ? "generator" : v.section;
      report.problems.push_back(fmt::format("{}: [{}] does not fit in the {} of memory a job has ({} of memory / {} job(s))",
                                            exp.position_of(section).str(), section, gib(static_cast<double>(per_job)),
                                            gib(static_cast<double>(options.memory_budget)), options.jobs));
      break;
    }
    case Verdict::Kind::crashed:
      report.warnings.push_back(fmt::format("{} crashed while being built ({}); its runs will fail", label, v.message));
      break;
    case Verdict::Kind::timed_out:
      report.warnings.push_back(fmt::format("{} took over {:g} s to build and take one step; not checked further",
                                            label, options.seconds_per_config));
      break;
  }
}

}  // namespace

PreflightReport preflight(const Experiment& exp, const PreflightOptions& given) {
  PreflightOptions options = given;
  if (options.memory_budget == 0) options.memory_budget = trial_memory_budget();
  const uint64_t per_job = options.memory_budget / static_cast<uint64_t>(std::max(1, options.jobs));
  std::map<std::string, const Trial*> distinct;
  for (const Trial& t : exp.trials) distinct.emplace(config_key(t.config), &t);
  PreflightReport report;
  report.configs = distinct.size();
  const auto start = Clock::now();
  for (const auto& [key, trial] : distinct) {
    if (report.rehearsed == options.max_configs ||
        std::chrono::duration<double>(Clock::now() - start).count() > options.seconds_in_all)
      break;
    ++report.rehearsed;
    const Verdict v = rehearse_in_child(trial->config, per_job + (1ull << 30), per_job, options.seconds_per_config);
    record(exp, *trial, v, per_job, options, report);
  }
  return report;
}

}  // namespace gantry
