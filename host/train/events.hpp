#pragma once
#include <cstdint>
#include <string_view>

namespace gantry {

/// Where a running trial sends what it measures. The store implements it; so can a pipe to a
/// parent process, or a test.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void metric(int64_t step, std::string_view key, double value) = 0;
  /// Called after each evaluation and at the end: a good moment to persist.
  virtual void flush() {}
  /// A picture or other file made at an evaluation (e.g. kind "samples", mime "image/png").
  virtual void artifact(int64_t /*step*/, std::string_view /*kind*/, std::string_view /*mime*/,
                        std::string_view /*bytes*/) {}
  /// A fact about how the run measures, recorded once (e.g. the classifier a metric used).
  virtual void note(std::string_view /*key*/, std::string_view /*value*/) {}
  /// A checkpoint of the end of `step` was written (its file named by the step, in the run's
  /// checkpoint folder): `bytes` long, with this SHA-256.
  virtual void checkpoint(int64_t /*step*/, uint64_t /*bytes*/, std::string_view /*sha256*/) {}
  /// The trial continues from the end of `step` (0: from the start) after an earlier attempt;
  /// `message` says from which checkpoint and which were passed over, and why.
  virtual void resumed(int64_t /*step*/, std::string_view /*message*/) {}
  /// Progress, for display only.
  virtual void progress(int64_t /*step*/, int64_t /*steps*/, double /*d_loss*/, double /*g_loss*/) {}
};

}  // namespace gantry
