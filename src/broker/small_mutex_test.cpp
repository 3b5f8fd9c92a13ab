// SmallMutex (the session lock, issue 20): mutual exclusion under contention,
// with waiters that sleep (more threads than this machine's cores).
#include "broker/small_mutex.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

namespace sluice::broker {

TEST(SmallMutex, ExcludesUnderContention) {
  SmallMutex mu;
  uint64_t counter = 0;  // not atomic: only the lock protects it
  constexpr int kThreads = 8, kRounds = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        std::lock_guard lock(mu);
        ++counter;
        if (i % 1000 == 0) std::this_thread::yield();  // held across a reschedule: others sleep
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, uint64_t(kThreads) * kRounds);
}

TEST(SmallMutex, TryLockFailsWhileHeld) {
  SmallMutex mu;
  ASSERT_TRUE(mu.try_lock());
  bool other = true;
  std::thread([&] { other = mu.try_lock(); }).join();
  EXPECT_FALSE(other);
  mu.unlock();
  std::unique_lock lock(mu);
  EXPECT_TRUE(lock.owns_lock());
  EXPECT_EQ(sizeof(SmallMutex), 4u);
}

}  // namespace sluice::broker
