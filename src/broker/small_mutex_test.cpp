// SmallMutex (the session lock, issue 20): mutual exclusion under contention,
// with waiters that sleep (more threads than this machine's cores).
#include "broker/small_mutex.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <shared_mutex>
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

TEST(SmallSharedMutex, WritersExcludeReadersAndEachOther) {
  SmallSharedMutex mu;
  uint64_t a = 0, b = 0;  // a writer keeps them equal; a reader must never see them differ
  std::atomic<bool> torn{false};
  std::atomic<int> writers_done{0};
  constexpr int kWriters = 3, kReaders = 5, kRounds = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        std::unique_lock lock(mu);
        ++a;
        if (i % 500 == 0) std::this_thread::yield();  // readers and writers pile up and sleep
        ++b;
      }
      ++writers_done;
    });
  for (int t = 0; t < kReaders; ++t)
    threads.emplace_back([&] {
      while (writers_done.load() < kWriters) {
        std::shared_lock lock(mu);
        if (a != b) torn = true;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_FALSE(torn.load());
  EXPECT_EQ(a, uint64_t(kWriters) * kRounds);
  EXPECT_EQ(b, a);
}

TEST(SmallSharedMutex, ReadersShare) {
  SmallSharedMutex mu;
  mu.lock_shared();
  bool second_reader = false, writer = true;
  std::thread([&] {
    mu.lock_shared();  // would block forever if readers excluded each other
    second_reader = true;
    mu.unlock_shared();
    writer = mu.try_lock();
  }).join();
  EXPECT_TRUE(second_reader);
  EXPECT_FALSE(writer);
  mu.unlock_shared();
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
  EXPECT_EQ(sizeof(SmallSharedMutex), 4u);
}

}  // namespace sluice::broker
