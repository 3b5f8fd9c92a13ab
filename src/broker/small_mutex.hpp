#pragma once
// A mutex in 4 bytes (std::mutex is 40 on glibc): every session holds one, and
// idle sessions are what a broker holds most of (issue 20). Uncontended, lock
// and unlock are one atomic instruction each, inline (pthread_mutex_lock and
// unlock are calls of ~30 instructions each, twice per routed message). Contended,
// waiters sleep in the kernel (futex, through std::atomic::wait), never spin.
// The classic three-state futex mutex (Drepper, "Futexes Are Tricky", mutex 2).
// Meets the Lockable requirements: std::lock_guard / std::unique_lock work.
#include <atomic>
#include <cstdint>

namespace sluice::broker {

class SmallMutex {
 public:
  SmallMutex() = default;
  SmallMutex(const SmallMutex&) = delete;
  SmallMutex& operator=(const SmallMutex&) = delete;

  void lock() {
    uint32_t c = kFree;
    if (state_.compare_exchange_strong(c, kLocked, std::memory_order_acquire, std::memory_order_relaxed)) return;
    lock_contended(c);
  }
  bool try_lock() {
    uint32_t c = kFree;
    return state_.compare_exchange_strong(c, kLocked, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() {
    if (state_.exchange(kFree, std::memory_order_release) == kWaiters) state_.notify_one();
  }

 private:
  static constexpr uint32_t kFree = 0, kLocked = 1, kWaiters = 2;  // kWaiters: locked, someone may sleep
  void lock_contended(uint32_t c) {
    if (c != kWaiters) c = state_.exchange(kWaiters, std::memory_order_acquire);
    while (c != kFree) {
      state_.wait(kWaiters, std::memory_order_relaxed);
      c = state_.exchange(kWaiters, std::memory_order_acquire);
    }
  }
  std::atomic<uint32_t> state_{kFree};
};

// A reader-writer lock in 4 bytes for the subscription trie, which every routed
// message reads (pthread_rwlock_rdlock + unlock: ~55 instructions a message,
// issue 20). Readers hold it shared with one atomic add; a writer waits for
// readers to drain. Like glibc's default rwlock it prefers readers (a writer
// waits while readers keep coming); subscribing is rare next to routing.
// Sleepers set kSleepers before they wait; whoever releases with it set clears
// it and wakes them all, and those still blocked set it again.
class SmallSharedMutex {
 public:
  SmallSharedMutex() = default;
  SmallSharedMutex(const SmallSharedMutex&) = delete;
  SmallSharedMutex& operator=(const SmallSharedMutex&) = delete;

  void lock_shared() {
    uint32_t c = state_.load(std::memory_order_relaxed);
    if (!(c & kWriter) && state_.compare_exchange_weak(c, c + 1, std::memory_order_acquire, std::memory_order_relaxed))
      return;
    lock_shared_slow();
  }
  void unlock_shared() {
    const uint32_t prev = state_.fetch_sub(1, std::memory_order_release);
    if ((prev & kReaders) == 1 && (prev & kSleepers)) wake();
  }
  void lock() {
    uint32_t c = kFree;
    if (state_.compare_exchange_strong(c, kWriter, std::memory_order_acquire, std::memory_order_relaxed)) return;
    lock_slow();
  }
  bool try_lock() {
    uint32_t c = kFree;
    return state_.compare_exchange_strong(c, kWriter, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() {
    const uint32_t prev = state_.fetch_and(~kWriter, std::memory_order_release);
    if (prev & kSleepers) wake();
  }

 private:
  static constexpr uint32_t kFree = 0, kReaders = (1u << 30) - 1, kWriter = 1u << 30, kSleepers = 1u << 31;
  // Sets kSleepers on the observed state `c` and sleeps while the state stays so;
  // returns at once if the state moved meanwhile.
  void sleep_on(uint32_t c) {
    if (!(c & kSleepers)) {
      if (!state_.compare_exchange_weak(c, c | kSleepers, std::memory_order_relaxed)) return;
      c |= kSleepers;
    }
    state_.wait(c, std::memory_order_relaxed);
  }
  void lock_shared_slow() {
    for (;;) {
      uint32_t c = state_.load(std::memory_order_relaxed);
      if (!(c & kWriter)) {
        if (state_.compare_exchange_weak(c, c + 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
        continue;
      }
      sleep_on(c);
    }
  }
  void lock_slow() {
    for (;;) {
      uint32_t c = state_.load(std::memory_order_relaxed);
      if ((c & ~kSleepers) == 0) {  // no reader, no writer: keep kSleepers for the others
        if (state_.compare_exchange_weak(c, c | kWriter, std::memory_order_acquire, std::memory_order_relaxed)) return;
        continue;
      }
      sleep_on(c);
    }
  }
  void wake() {
    state_.fetch_and(~kSleepers, std::memory_order_relaxed);
    state_.notify_all();
  }
  std::atomic<uint32_t> state_{kFree};
};

}  // namespace sluice::broker
