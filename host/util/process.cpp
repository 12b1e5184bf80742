#include "util/process.hpp"

#include <gantry/error.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <optional>
#include <poll.h>
#include <sched.h>
#include <string_view>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unordered_map>

namespace gantry {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Pipe Pipe::make() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw Error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::string wait_status_text(int wstatus) {
  if (WIFSIGNALED(wstatus)) {
    const int sig = WTERMSIG(wstatus);
    const char* name = sigabbrev_np(sig);
    return fmt::format("killed by signal SIG{} ({})", name ? name : "?", strsignal(sig));
  }
  return fmt::format("exited with code {}", WEXITSTATUS(wstatus));
}

const char* to_string(Containment c) {
  return c == Containment::pid_namespace ? "pid namespace per trial" : "child subreaper";
}

namespace {

// Whether this process may make PID namespaces (root, or CAP_SYS_ADMIN): tried once in a
// throwaway child, so the answer costs nothing later. GANTRY_CONTAINMENT=subreaper forces the
// fallback (tests cover both).
Containment probe_containment() {
  if (const char* forced = std::getenv("GANTRY_CONTAINMENT"); forced && std::string_view(forced) == "subreaper")
    return Containment::subreaper;
  const pid_t pid = fork();
  if (pid == 0) _exit(unshare(CLONE_NEWPID) == 0 ? 0 : 1);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return Containment::subreaper;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? Containment::pid_namespace : Containment::subreaper;
}

// Every process's parent, from /proc/<pid>/stat ("pid (comm) state ppid ..."; comm may hold
// spaces and parentheses, so the fields after the last ')' are the reliable ones).
std::unordered_map<pid_t, pid_t> parents() {
  std::unordered_map<pid_t, pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* e = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string line;
    if (!std::getline(stat, line)) continue;
    const size_t close = line.rfind(')');
    if (close == std::string::npos || close + 4 >= line.size()) continue;
    out[static_cast<pid_t>(pid)] = static_cast<pid_t>(std::strtol(line.c_str() + close + 4, nullptr, 10));
  }
  closedir(proc);
  return out;
}

std::vector<pid_t> descendants(pid_t root) {
  const auto parent_of = parents();
  std::unordered_map<pid_t, std::vector<pid_t>> children;
  for (const auto& [pid, ppid] : parent_of) children[ppid].push_back(pid);
  std::vector<pid_t> out, frontier{root};
  while (!frontier.empty()) {
    const pid_t p = frontier.back();
    frontier.pop_back();
    for (pid_t c : children[p]) {
      out.push_back(c);
      frontier.push_back(c);
    }
  }
  return out;
}

void block_stop_signals() {
  // Stop requests reach trials through gantry (shared memory), never as signals: a handler run
  // inside a oneDNN JIT kernel corrupted the heap, and a terminal's Ctrl-C reaches the whole
  // process group.
  sigset_t block;
  sigemptyset(&block);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&block, sig);
  sigprocmask(SIG_BLOCK, &block, nullptr);
}

// Ends this process the way `wstatus` says the body ended, so the parent sees the same.
[[noreturn]] void exit_like(int wstatus) {
  if (WIFSIGNALED(wstatus)) {
    const int sig = WTERMSIG(wstatus);
    std::signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    std::raise(sig);
    _exit(128 + sig);
  }
  _exit(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 125);
}

[[noreturn]] void run_body(const std::function<int()>& body) {
  int code = 125;
  try {
    code = body();
  } catch (...) {
  }
  std::fflush(stderr);
  _exit(code);
}

// PID 1 of the trial's namespace: forks the body, reaps whatever is orphaned into the
// namespace, and reports the body's wait status to the warden. When it exits, for whatever
// reason, the kernel kills every process left in the namespace.
[[noreturn]] void namespace_init(const std::function<int()>& body, UniqueFd lifeline, UniqueFd status) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, nullptr);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const pid_t child = fork();
  if (child < 0) _exit(125);
  if (child == 0) {
    lifeline.reset();
    status.reset();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    block_stop_signals();
    run_body(body);
  }
  while (true) {
    int wstatus = 0;
    pid_t done;
    while ((done = waitpid(-1, &wstatus, WNOHANG)) > 0)
      if (done == child) {
        [[maybe_unused]] const ssize_t n = ::write(status.get(), &wstatus, sizeof wstatus);
        _exit(0);
      }
    // The warden holds the other end: when it dies (killed on timeout), so does the namespace.
    pollfd p{lifeline.get(), POLLIN, 0};
    if (::poll(&p, 1, 50) > 0 && (p.revents & (POLLHUP | POLLERR))) _exit(0);
  }
}

[[noreturn]] void warden_with_namespace(const std::function<int()>& body) {
  Pipe lifeline = Pipe::make(), status = Pipe::make();
  const pid_t init = fork();
  if (init < 0) _exit(125);
  if (init == 0) {
    lifeline.write.reset();
    status.read.reset();
    namespace_init(body, std::move(lifeline.read), std::move(status.write));
  }
  lifeline.read.reset();
  status.write.reset();
  int init_status = 0;
  while (waitpid(init, &init_status, 0) < 0 && errno == EINTR) {
  }
  int wstatus = 0;
  if (::read(status.read.get(), &wstatus, sizeof wstatus) != static_cast<ssize_t>(sizeof wstatus))
    wstatus = SIGKILL;  // the namespace died before the body finished: report it as killed
  exit_like(wstatus);
}

[[noreturn]] void warden_as_subreaper(const std::function<int()>& body) {
  const pid_t child = fork();
  if (child < 0) _exit(125);
  if (child == 0) run_body(body);
  int wstatus = 0, status = 0;
  pid_t done;
  // Orphans of the body are reparented here (subreaper) and reaped as they end.
  while ((done = waitpid(-1, &status, 0)) != child)
    if (done < 0 && errno != EINTR) break;
  wstatus = status;
  kill_process_tree(getpid(), false);
  while (waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
  }
  exit_like(wstatus);
}

}  // namespace

namespace {
std::optional<Containment>& chosen_containment() {
  static std::optional<Containment> c;
  return c;
}
}  // namespace

Containment containment() {
  auto& c = chosen_containment();
  if (!c) c = probe_containment();
  return *c;
}

void force_containment(Containment c) { chosen_containment() = c; }

void kill_process_tree(pid_t root, bool include_root) {
  if (include_root) ::kill(root, SIGKILL);
  // A process being killed cannot fork any more, but one that forked just before may have a
  // child the previous scan missed: scan until nothing is left.
  for (int round = 0; round < 100; ++round) {
    const auto found = descendants(root);
    bool any_alive = false;
    for (pid_t p : found)
      if (::kill(p, SIGKILL) == 0) any_alive = true;
    if (!any_alive) return;
    usleep(1000);
  }
}

void limit_address_space(uint64_t bytes) {
#if defined(__SANITIZE_ADDRESS__)
  (void)bytes;
#else
  if (bytes == 0) return;
  const rlimit limit{bytes, bytes};
  setrlimit(RLIMIT_AS, &limit);
#endif
}

uint64_t physical_memory() {
  return static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t trial_memory_budget() { return physical_memory() / 5 * 4; }

void become_subreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1); }

void end_stray_children(const std::vector<pid_t>& keep) {
  const auto parent_of = parents();
  const pid_t self = getpid();
  for (const auto& [pid, ppid] : parent_of) {
    if (ppid != self || std::find(keep.begin(), keep.end(), pid) != keep.end()) continue;
    kill_process_tree(pid, true);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

void keep_only_fds(int err_fd, int keep_as_3) {
  const int devnull = ::open("/dev/null", O_RDWR);
  // Moved above the low numbers first, so no dup2 below overwrites the other one.
  const int keep = keep_as_3 >= 0 ? fcntl(keep_as_3, F_DUPFD, 10) : -1;
  const int err = err_fd >= 0 ? fcntl(err_fd, F_DUPFD, 10) : -1;
  dup2(devnull, STDIN_FILENO);
  dup2(devnull, STDOUT_FILENO);
  dup2(err >= 0 ? err : devnull, STDERR_FILENO);
  if (keep >= 0) dup2(keep, 3);
  close_range(keep >= 0 ? 4 : 3, ~0U, 0);
}

void run_contained(pid_t parent, const std::function<int()>& body) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(125);  // the parent died before the line above took effect
  block_stop_signals();
  become_subreaper();
  if (containment() == Containment::pid_namespace && unshare(CLONE_NEWPID) == 0) warden_with_namespace(body);
  warden_as_subreaper(body);
}

std::string host_name() {
  char buf[256] = {};
  return gethostname(buf, sizeof buf - 1) == 0 ? buf : "unknown";
}

}  // namespace gantry
