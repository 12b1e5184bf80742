#include "registry/probe.hpp"

#include "util/process.hpp"

#include "registry/registry.hpp"

#include <gantry/error.hpp>
#include <gantry/plugin.hpp>
#include <gantry/sha256.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gantry {
namespace fs = std::filesystem;

namespace {

constexpr int result_fd = 3;  // the child's only descriptor besides /dev/null on 0, 1 and 2

// One file per good library; its name hashes everything the verdict depends on.
fs::path cache_entry(const std::string& sha256) {
  const fs::path dir = probe_cache_dir();
  if (dir.empty()) return {};
  return dir / (sha256_hex(fmt::format("{}\n{}\n{}", sha256, build_fingerprint(), abi_version)) + ".ok");
}

bool cached_ok(const fs::path& entry) {
  std::error_code ec;
  return !entry.empty() && fs::is_regular_file(entry, ec);
}

// Best effort: a cache that cannot be written only means probing again next time.
void remember_ok(const fs::path& entry, const fs::path& file) {
  if (entry.empty()) return;
  std::error_code ec;
  fs::create_directories(entry.parent_path(), ec);
  const fs::path tmp = entry.string() + fmt::format(".{}.tmp", getpid());
  {
    std::ofstream out(tmp);
    if (!out) return;
    out << "ok\n" << file.string() << "\n";
    if (!out) return;
  }
  fs::rename(tmp, entry, ec);
  if (ec) fs::remove(tmp, ec);
}

// In the contained child: load the library, say what happened on fd 3.
int probe_here(const fs::path& file, const std::string& sha256) {
  std::string verdict;
  try {
    // Unloaded again before the verdict: a library whose teardown crashes would crash the parent
    // at exit, so that counts against it too.
    load_plugin_library(file, sha256);
    verdict = "ok";
  } catch (const std::exception& e) {
    verdict = std::string("error\n") + e.what();
  } catch (...) {
    verdict = "error\n" + fmt::format("plugin '{}': loading threw an exception that is not a std::exception",
                                      file.string());
  }
  for (size_t done = 0; done < verdict.size();) {
    const ssize_t n = write(result_fd, verdict.data() + done, verdict.size() - done);
    if (n <= 0) return 121;
    done += static_cast<size_t>(n);
  }
  return 0;
}

struct ChildEnd {
  std::string output;
  int status = 0;
  bool hung = false;
};

// Reads the child's verdict until the child exits or the deadline passes. Exit is detected
// without reaping (WNOWAIT), so its process tree can still be killed before the pid is freed.
ChildEnd wait_for_child(pid_t pid, int read_fd, std::chrono::milliseconds timeout) {
  ChildEnd end;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool eof = false;
  char buf[4096];
  while (true) {
    if (!eof) {
      pollfd p{read_fd, POLLIN, 0};
      if (poll(&p, 1, 20) > 0) {
        const ssize_t n = read(read_fd, buf, sizeof buf);
        if (n > 0) end.output.append(buf, static_cast<size_t>(n));
        else if (n == 0 || errno != EINTR) eof = true;
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      end.hung = true;
      break;
    }
  }
  kill_process_tree(pid, true);  // the child (if hung) and anything it started, however detached
  while (waitpid(pid, &end.status, 0) < 0 && errno == EINTR) {}
  for (ssize_t n; !end.hung && (n = read(read_fd, buf, sizeof buf)) > 0;) end.output.append(buf, static_cast<size_t>(n));
  return end;
}

ProbeVerdict verdict_of(const fs::path& file, const ChildEnd& end, std::chrono::milliseconds timeout) {
  const std::string where = fmt::format("plugin '{}'", file.string());
  if (end.hung)
    return {false, fmt::format("{}: hung while loading: no answer within {} s, killed", where,
                               static_cast<double>(timeout.count()) / 1000.0)};
  if (WIFSIGNALED(end.status))
    return {false, fmt::format("{}: crashed while loading: {}", where, wait_status_text(end.status))};
  const int code = WIFEXITED(end.status) ? WEXITSTATUS(end.status) : -1;
  if (code == 0 && end.output == "ok") return {true, ""};
  if (code == 0 && end.output.starts_with("error\n")) return {false, end.output.substr(6)};
  return {false, fmt::format("{}: crashed while loading: exited with status {}", where, code)};
}

}  // namespace

fs::path probe_cache_dir() {
  if (const char* d = std::getenv("GANTRY_CACHE_DIR"); d != nullptr && *d != '\0') return fs::path(d) / "plugin-probes";
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d != nullptr && *d != '\0')
    return fs::path(d) / "gantry" / "plugin-probes";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0')
    return fs::path(h) / ".cache" / "gantry" / "plugin-probes";
  return {};
}

ProbeVerdict probe_plugin_library(const fs::path& file, const std::string& sha256, const ProbeOptions& options) {
  const fs::path entry = cache_entry(sha256);
  if (cached_ok(entry)) return {true, "", true};
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    throw PluginError(fmt::format("plugin '{}': cannot probe it: pipe: {}", file.string(), std::strerror(errno)));
  // Non-blocking: a process the child started may hold the write end open after the child exits.
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  std::fflush(nullptr);  // nothing buffered here may be written twice by the child
  const pid_t parent = getpid();
  containment();  // decided here, once, not again in every probe's child
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw PluginError(fmt::format("plugin '{}': cannot probe it: fork: {}", file.string(), std::strerror(errno)));
  }
  if (pid == 0) {
    // Only the result pipe survives (no inherited descriptor, the database's among them, stays
    // reachable), and whatever the library starts ends with the probe (util/process.hpp).
    keep_only_fds(-1, fds[1]);
    run_contained(parent, [&file, &sha256] { return probe_here(file, sha256); });
  }
  close(fds[1]);
  const ChildEnd end = wait_for_child(pid, fds[0], options.timeout);
  close(fds[0]);
  ProbeVerdict verdict = verdict_of(file, end, options.timeout);
  if (verdict.ok) remember_ok(entry, file);
  return verdict;
}

}  // namespace gantry
