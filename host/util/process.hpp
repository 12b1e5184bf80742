#pragma once
// Owners for the OS resources a trial uses: file descriptors and worker processes, and the
// containment that makes every process a trial starts end with it.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gantry {

/// A file descriptor closed when its owner dies.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

/// A pipe whose two ends are close-on-exec.
struct Pipe {
  UniqueFd read, write;
  static Pipe make();
};

/// How a trial's processes are kept together, chosen once per gantry process.
enum class Containment {
  pid_namespace,  ///< each trial in its own PID namespace: the kernel ends every process in it
  subreaper,      ///< no namespaces here: orphans come back to the worker, which ends them
};
Containment containment();
/// Tests exercise both ways: fixes the choice (before any worker starts).
void force_containment(Containment c);
const char* to_string(Containment c);

/// Caps this process's address space (RLIMIT_AS) at `bytes`, so an impossible allocation fails
/// as bad_alloc here instead of waking the kernel's OOM killer, which may pick any process. Does
/// nothing for 0 or under AddressSanitizer (its shadow memory is terabytes of address space).
void limit_address_space(uint64_t bytes);

/// The machine's physical memory in bytes.
uint64_t physical_memory();
/// What trials may use in all: four fifths of the memory (the rest is the system's, gantry's own
/// and the allocator's slack). Preflight's estimates and the trials' address-space caps share it.
uint64_t trial_memory_budget();

/// The wait status of a process as words: "killed by signal SIGSEGV (Segmentation fault)" or
/// "exited with code 3".
std::string wait_status_text(int wstatus);

/// SIGKILLs every descendant of `root` (found through /proc, repeatedly until none is left, so
/// a process forking as it dies cannot outrun it) and, when `include_root`, `root` itself.
void kill_process_tree(pid_t root, bool include_root);

/// Makes this process a child subreaper: orphaned descendants are reparented to it rather than
/// to init, so it can end them.
void become_subreaper();

/// Reaps (without blocking) every child of this process that is not in `keep`, killing the
/// process tree of each first: orphans a dead worker left behind.
void end_stray_children(const std::vector<pid_t>& keep);

/// In a freshly forked child: keep only fds 0, 1, 2 and `keep_as_3` (moved to fd 3, or -1 for
/// none), with stdin and stdout on /dev/null and stderr on `err_fd` (-1: /dev/null).
void keep_only_fds(int err_fd, int keep_as_3);

/// Runs `body` in a contained process tree and turns this (already forked, single-threaded)
/// process into its warden; never returns. The warden ends every descendant when the body
/// ends and exits with the body's wait status (re-raising its signal), so to the parent it
/// looks like the body. Dies with its parent (PR_SET_PDEATHSIG), taking the tree with it.
[[noreturn]] void run_contained(pid_t parent, const std::function<int()>& body);

/// This machine's name (gethostname), "unknown" if it has none.
std::string host_name();

}  // namespace gantry
