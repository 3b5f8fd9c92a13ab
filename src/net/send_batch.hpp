#pragma once
// Many sockets' output in one system call (io_uring, liburing): the loop's
// flush writes every connection with output once per iteration, and a fan-out
// makes that a hundred send()s whose entry and exit cost as much as a fifth of
// the loop's CPU on this kind of machine (perf: the syscall path's interrupt
// enabling under a hypervisor). Submitted sends go to non-blocking sockets with
// MSG_DONTWAIT, so each completes (or fails with EAGAIN) inside the submitting
// call and the buffers may change as soon as run() returns.
//
// If the kernel refuses io_uring (old, disabled, seccomp) ready() is false and
// the loop sends one by one as before.
#include <cerrno>
#include <cstdint>
#include <string_view>

struct io_uring;

namespace sluice::net {

class SendBatch {
 public:
  static constexpr unsigned kEntries = 256;

  SendBatch();
  ~SendBatch();
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;

  bool ready() const { return ring_ != nullptr; }
  unsigned size() const { return queued_; }
  // Queues a send of `bytes` to `fd`; false when the batch is full.
  bool add(int fd, std::string_view bytes, uint32_t tag);
  // Submits what was queued and waits for every result: done(tag, n, err),
  // n > 0 bytes sent, or n < 0 with err (EAGAIN, EPIPE...), as send() would.
  // If the kernel stops taking submissions the ring is given up (ready() turns
  // false) and what it did not take reports EAGAIN: the loop writes those
  // connections when their sockets say they are writable.
  template <typename Done>
  void run(Done&& done) {
    const unsigned taken = submit();
    for (unsigned i = 0; i < queued_; ++i) {
      if (i >= taken) {
        done(tags_[i], -1, EAGAIN);
        continue;
      }
      const Result r = next_result();
      done(r.tag, r.n, r.err);
    }
    queued_ = 0;
    if (failed_) give_up();
  }

 private:
  struct Result {
    uint32_t tag;
    long n;
    int err;
  };
  unsigned submit();  // how many the kernel took (all, unless it failed)
  Result next_result();
  void give_up();
  io_uring* ring_ = nullptr;
  unsigned queued_ = 0;
  bool failed_ = false;
  uint32_t tags_[kEntries];
};

}  // namespace sluice::net
