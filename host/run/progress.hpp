#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>

namespace gantry {

/// Shows a sweep's progress: on a terminal, one live line per running trial and an overall bar;
/// elsewhere (CI logs), a plain summary line every few seconds.
class ProgressView {
 public:
  ProgressView(std::ostream& out, bool live, size_t total);
  void started(int64_t run_id, const std::string& label);
  void step(int64_t run_id, int64_t step, int64_t steps, double d_loss, double g_loss);
  /// A finished run's one-line verdict, printed above the live block.
  void finished(int64_t run_id, const std::string& line, bool failed);
  void skipped(size_t n) { done_ += n, total_done_ += n; }
  /// Redraws (live) or prints a line (plain) when enough time has passed.
  void tick(bool force = false);
  void close();

 private:
  struct Slot {
    std::string label;
    int64_t step = 0, steps = 0;
    double d_loss = 0, g_loss = 0;
    std::chrono::steady_clock::time_point start;
  };
  void erase();
  std::ostream& out_;
  bool live_;
  size_t total_, done_ = 0, total_done_ = 0, failed_ = 0;
  std::map<int64_t, Slot> slots_;
  size_t drawn_ = 0;
  std::chrono::steady_clock::time_point begin_, last_;
};

}  // namespace gantry
