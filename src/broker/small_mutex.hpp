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

}  // namespace sluice::broker
