#include "event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <ctime>
#include <stdexcept>

namespace sbench {

EventLoop::EventLoop() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  evfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || evfd_ < 0) throw std::runtime_error("epoll/eventfd creation failed");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // nullptr marks the wake-up fd
  epoll_ctl(epfd_, EPOLL_CTL_ADD, evfd_, &ev);
}

EventLoop::~EventLoop() {
  if (evfd_ >= 0) close(evfd_);
  if (epfd_ >= 0) close(epfd_);
}

int EventLoop::run_once(int64_t timeout_ns) {
  epoll_event events[256];
  timespec ts{}, *tsp = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = timeout_ns / 1'000'000'000;
    ts.tv_nsec = timeout_ns % 1'000'000'000;
    tsp = &ts;
  }
  if (timeout_ns != 0) sleeping_.store(true, std::memory_order_seq_cst);
  int n = epoll_pwait2(epfd_, events, 256, tsp, nullptr);
  if (timeout_ns != 0) sleeping_.store(false, std::memory_order_relaxed);
  for (int i = 0; i < n; ++i) {
    auto* c = static_cast<Connection*>(events[i].data.ptr);
    if (!c) {
      uint64_t v;
      [[maybe_unused]] auto r = read(evfd_, &v, sizeof v);
      continue;
    }
    c->on_events(events[i].events);
  }
  flush_dirty();
  return n < 0 ? 0 : n;
}

void EventLoop::flush_dirty() {
  // flush() may close a connection whose handler queues more writes: swap first.
  flushing_.swap(dirty_);
  for (Connection* c : flushing_) c->flush();
  flushing_.clear();
}

void EventLoop::wake() {
  if (!sleeping_.load(std::memory_order_seq_cst)) return;
  uint64_t one = 1;
  [[maybe_unused]] auto r = write(evfd_, &one, sizeof one);
}

}  // namespace sbench
