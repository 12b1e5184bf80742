#include "run/progress.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace gantry {

using Clock = std::chrono::steady_clock;

namespace {
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string duration_text(double s) {
  if (s < 90) return fmt::format("{:.0f}s", s);
  if (s < 5400) return fmt::format("{:.0f}m{:02.0f}s", std::floor(s / 60), std::fmod(s, 60));
  return fmt::format("{:.0f}h{:02.0f}m", std::floor(s / 3600), std::fmod(s / 60, 60));
}
}  // namespace

ProgressView::ProgressView(std::ostream& out, bool live, size_t total)
    : out_(out), live_(live), total_(total), begin_(Clock::now()), last_(begin_) {}

void ProgressView::started(int64_t run_id, const std::string& label) {
  slots_[run_id] = Slot{label, 0, 0, 0, 0, Clock::now()};
  if (!live_) out_ << fmt::format("{} started\n", label) << std::flush;
  tick(true);
}

void ProgressView::step(int64_t run_id, int64_t step, int64_t steps, double d_loss, double g_loss) {
  auto it = slots_.find(run_id);
  if (it == slots_.end()) return;
  it->second.step = step, it->second.steps = steps, it->second.d_loss = d_loss, it->second.g_loss = g_loss;
}

void ProgressView::finished(int64_t run_id, const std::string& line, bool failed) {
  slots_.erase(run_id);
  ++done_;
  failed_ += failed;
  erase();
  out_ << line << "\n";
  tick(true);
}

void ProgressView::erase() {
  if (!live_ || drawn_ == 0) return;
  out_ << fmt::format("\x1b[{}F\x1b[J", drawn_);  // up to the block's first line, clear to the end
  drawn_ = 0;
}

void ProgressView::tick(bool force) {
  const double since = seconds_since(last_);
  if (!force && since < (live_ ? 0.5 : 10.0)) return;
  last_ = Clock::now();
  const double elapsed = seconds_since(begin_);
  const size_t fresh = done_ - total_done_;
  const double eta = fresh > 0 ? elapsed / static_cast<double>(fresh) * static_cast<double>(total_ - done_) : 0;
  std::string overall = fmt::format("{}/{} done, {} failed, {} running, {} elapsed{}", done_, total_, failed_,
                                    slots_.size(), duration_text(elapsed),
                                    fresh > 0 && done_ < total_ ? ", ETA " + duration_text(eta) : "");
  if (!live_) {
    if (force) return;  // plain mode prints on the clock only, plus start/finish lines
    out_ << fmt::format("[{}] {}", duration_text(elapsed), overall);
    for (const auto& [id, s] : slots_)
      out_ << fmt::format("; {} {}/{}", s.label, s.step, s.steps);
    out_ << "\n" << std::flush;
    return;
  }
  erase();
  for (const auto& [id, s] : slots_) {
    const double rate = static_cast<double>(s.step) / std::max(1e-9, seconds_since(s.start));
    if (s.steps == 0)
      out_ << fmt::format("  {} starting\x1b[K\n", s.label);
    else
      out_ << fmt::format("  {} step {}/{}  {:.0f} steps/s  loss.d {:.4f}  loss.g {:.4f}\x1b[K\n", s.label, s.step,
                          s.steps, rate, s.d_loss, s.g_loss);
    ++drawn_;
  }
  const int width = 30;
  const int filled = total_ ? static_cast<int>(width * static_cast<double>(done_) / static_cast<double>(total_)) : width;
  out_ << fmt::format("[{}{}] {}\x1b[K\n", std::string(static_cast<size_t>(filled), '#'),
                      std::string(static_cast<size_t>(width - filled), '.'), overall);
  ++drawn_;
  out_ << std::flush;
}

void ProgressView::close() {
  if (live_) {
    erase();
  }
  out_ << std::flush;
}

}  // namespace gantry
