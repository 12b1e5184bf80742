#include "serve/elastic_pool.hpp"

#include <thread>

namespace gantry::serve {

ElasticPool::ElasticPool(size_t kept_threads, size_t max_threads, std::chrono::milliseconds linger)
    : kept_(kept_threads), max_(max_threads < 1 ? 1 : max_threads), linger_(linger) {}

ElasticPool::~ElasticPool() { shutdown(); }

void ElasticPool::enqueue(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  tasks_.push_back(std::move(fn));
  // Threads are detached: each counts itself out under the lock, and shutdown() waits for the count.
  if (idle_ < tasks_.size() && alive_ < max_) {
    ++alive_;
    peak_ = std::max(peak_, alive_);
    std::thread([this] { work(); }).detach();
  } else {
    wake_.notify_one();
  }
}

void ElasticPool::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    ++idle_;
    const bool woken = wake_.wait_for(lock, linger_, [this] { return stopping_ || !tasks_.empty(); });
    --idle_;
    if (tasks_.empty() && (stopping_ || (!woken && alive_ > kept_))) break;
    if (tasks_.empty()) continue;
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
  if (--alive_ == 0) ended_.notify_all();
}

void ElasticPool::shutdown() {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  wake_.notify_all();
  ended_.wait(lock, [this] { return alive_ == 0; });
}

size_t ElasticPool::threads() const {
  std::lock_guard lock(mutex_);
  return alive_;
}

size_t ElasticPool::peak_threads() const {
  std::lock_guard lock(mutex_);
  return peak_;
}

}  // namespace gantry::serve
