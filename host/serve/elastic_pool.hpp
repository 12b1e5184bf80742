#pragma once
// The server's workers: a thread for every connection open at once, up to a cap.
//
// cpp-httplib serves a connection on one worker for its whole life: while the client is idle
// between requests (a browser keeps its connections 5 s) or slow to send (a byte every few seconds
// keeps the read timeout from firing). A fixed pool is thus held up by as many idle or slow
// clients as it has threads. This one starts a thread whenever none is free, up to `max_threads`,
// and lets the extra ones end after `linger` idle, so a burst of connections costs threads only
// while it lasts. Only past the cap do connections wait.
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace gantry::serve {

class ElasticPool final : public httplib::TaskQueue {
 public:
  ElasticPool(size_t kept_threads, size_t max_threads, std::chrono::milliseconds linger);
  ~ElasticPool() override;
  ElasticPool(const ElasticPool&) = delete;
  ElasticPool& operator=(const ElasticPool&) = delete;

  void enqueue(std::function<void()> fn) override;
  /// Runs what is queued, then waits for every thread to end.
  void shutdown() override;

  /// Threads alive now, and the most there have been at once (for tests and the log).
  size_t threads() const;
  size_t peak_threads() const;

 private:
  void work();
  const size_t kept_, max_;
  const std::chrono::milliseconds linger_;
  mutable std::mutex mutex_;
  std::condition_variable wake_, ended_;
  std::deque<std::function<void()>> tasks_;
  size_t alive_ = 0, idle_ = 0, peak_ = 0;
  bool stopping_ = false;
};

}  // namespace gantry::serve
