#pragma once
// A thread sleeping on a 32-bit atomic until another changes it (Linux futex),
// without std::atomic::wait's spinning first: libstdc++ spins and yields up to
// 16 rounds before it sleeps, ~250 instructions per wake-up of the broker
// store's writer, which at a steady rate wakes for every QoS 1 rule entry
// (callgrind, issue 19). Both sides must use these (std::atomic::notify_one
// skips the system call for a waiter it did not register).
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <ctime>

namespace sluice::common {

// Sleeps while `word` holds `seen` (returns at once if it does not; may return
// spuriously: the caller checks what it waits for).
inline void futex_wait(std::atomic<uint32_t>& word, uint32_t seen) {
  static_assert(sizeof(std::atomic<uint32_t>) == 4);
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0);
}

// The same for at most `ms` milliseconds (the broker store's writer holding
// rule entries until they are due: woken early by a RuleDone).
inline void futex_wait_for(std::atomic<uint32_t>& word, uint32_t seen, int64_t ms) {
  const timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1'000'000)};
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, seen, &ts, nullptr, 0);
}

// Wakes one thread sleeping on `word` (the caller changed it first).
inline void futex_wake_one(std::atomic<uint32_t>& word) {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

// A mutex of one word (Drepper, "Futexes are tricky", mutex 2): taking it free
// is one compare-and-swap and giving it back one exchange, a system call only
// when a thread waits. pthread_mutex_lock + unlock cost ~57 instructions per
// message on the publishing loop for a rule's append (callgrind, issue 19);
// this ~8. With std::condition_variable_any where a condition is needed.
class FutexMutex {
 public:
  void lock() {
    uint32_t c = 0;
    if (state_.compare_exchange_strong(c, 1, std::memory_order_acquire)) return;
    if (c != 2) c = state_.exchange(2, std::memory_order_acquire);
    while (c != 0) {  // 2: held, and this thread may sleep on it
      futex_wait(state_, 2);
      c = state_.exchange(2, std::memory_order_acquire);
    }
  }
  bool try_lock() {
    uint32_t c = 0;
    return state_.compare_exchange_strong(c, 1, std::memory_order_acquire);
  }
  void unlock() {
    if (state_.exchange(0, std::memory_order_release) == 2) futex_wake_one(state_);
  }

 private:
  std::atomic<uint32_t> state_{0};  // 0 free, 1 held, 2 held and maybe waited for
};

}  // namespace sluice::common
