// The server's worker pool: a thread for each task running at once, up to the cap; the extra
// threads end when idle; shutdown runs what was queued and waits for every thread.
#include "serve/elastic_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace gantry::serve {
namespace {

using namespace std::chrono_literals;

// Tasks that wait until released, as connections held open by their clients.
struct Gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> inside{0}, done{0};
  std::function<void()> task() {
    return [this] {
      ++inside;
      std::unique_lock lock(m);
      cv.wait(lock, [this] { return open; });
      ++done;
    };
  }
  void release() {
    std::lock_guard lock(m);
    open = true;
    cv.notify_all();
  }
  void wait_inside(int n) {
    for (int i = 0; i < 500 && inside < n; ++i) std::this_thread::sleep_for(2ms);
  }
};

TEST(ElasticPool, StartsAThreadForEachTaskRunningAtOnceUpToItsCap) {
  ElasticPool pool(2, 50, 50ms);
  Gate gate;
  for (int i = 0; i < 40; ++i) pool.enqueue(gate.task());
  gate.wait_inside(40);
  EXPECT_EQ(gate.inside, 40);  // none waits for another to finish
  EXPECT_EQ(pool.threads(), 40u);
  gate.release();
  for (int i = 0; i < 500 && pool.threads() > 2; ++i) std::this_thread::sleep_for(2ms);
  EXPECT_EQ(pool.threads(), 2u);  // the extra threads ended once idle; the kept ones stay
  EXPECT_EQ(pool.peak_threads(), 40u);
  pool.shutdown();
  EXPECT_EQ(gate.done, 40);
  EXPECT_EQ(pool.threads(), 0u);
}

TEST(ElasticPool, PastItsCapTasksWaitTheirTurnAndAllRun) {
  ElasticPool pool(1, 4, 1s);
  Gate gate;
  for (int i = 0; i < 10; ++i) pool.enqueue(gate.task());
  gate.wait_inside(4);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(gate.inside, 4);
  EXPECT_EQ(pool.threads(), 4u);
  gate.release();
  pool.shutdown();  // runs the six that waited
  EXPECT_EQ(gate.done, 10);
  EXPECT_EQ(pool.peak_threads(), 4u);
}

TEST(ElasticPool, AfterShutdownNothingMoreRuns) {
  ElasticPool pool(1, 4, 1s);
  std::atomic<int> ran{0};
  pool.enqueue([&] { ++ran; });
  pool.shutdown();
  pool.enqueue([&] { ++ran; });
  pool.shutdown();
  EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace gantry::serve
