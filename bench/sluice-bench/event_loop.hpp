#pragma once
// The epoll loop one worker thread runs: waits with a nanosecond timeout (the
// pacer needs better than epoll_wait's milliseconds), dispatches events to
// Connections, then flushes every connection written to during the iteration.
// An eventfd lets other threads wake it.
#include <atomic>
#include <cstdint>
#include <vector>

#include "connection.hpp"

namespace sbench {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  int fd() const { return epfd_; }
  std::vector<Connection*>& dirty() { return dirty_; }
  // Waits up to timeout_ns (0 = poll, <0 = forever), handles events, flushes.
  // Returns the number of events handled.
  int run_once(int64_t timeout_ns);
  void flush_dirty();
  // Thread-safe; cheap when the loop is busy (it only writes when the loop sleeps).
  void wake();

 private:
  int epfd_ = -1;
  int evfd_ = -1;
  std::atomic<bool> sleeping_{false};
  std::vector<Connection*> dirty_;
  std::vector<Connection*> flushing_;
};

}  // namespace sbench
