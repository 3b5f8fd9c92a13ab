#include "net/worker.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <cstring>
#include <stdexcept>

#include "broker/clock.hpp"
#include "common/log.hpp"
#include "net/connect_limiter.hpp"
#include "net/connection.hpp"
#include "net/pending_handshakes.hpp"
#include "net/send_batch.hpp"
#include "net/server.hpp"
#include "net/socket.hpp"

namespace sluice::net {

// Timers (keep alive, connect timeout, rights re-checks, session expiry) run
// at this cadence: a revoked right reaches a connected client within it.
constexpr int64_t kTickMs = 250;

Worker::Worker(Server& server, unsigned id)
    : server_(server), id_(id), ctx_(id, server.broker().workers(), server.broker().stats(id)) {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || wakefd_ < 0) throw std::runtime_error(std::string("epoll: ") + strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &wake_tag_;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);
  read_buf_.resize(64 * 1024);
  now_ms_ = broker::now_ms();
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (server.options().io_uring) sends_ = std::make_unique<SendBatch>();
}

Worker::~Worker() {
  conns_.clear();
  for (auto& l : listeners_) ::close(l->fd);
  if (wakefd_ >= 0) ::close(wakefd_);
  if (epfd_ >= 0) ::close(epfd_);
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

void Worker::drop_connections() { conns_.clear(); }

void Worker::add_listener(int fd, Transport t) {
  listeners_.push_back(std::make_unique<Listener>(fd, t));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = listeners_.back().get();
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
}

void Worker::accept_all(Listener& l) {
  const uint32_t max = server_.options().max_connections;
  ConnectLimiter* limiter = server_.connect_limiter();
  PendingHandshakes* pending = server_.pending_handshakes();
  for (int i = 0; i < 256; ++i) {
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    int fd;
    {
      std::lock_guard lock(server_.accept_mutex());
      fd = ::accept4(l.fd, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
        if (shed_without_descriptors(l)) continue;
        return;
      }
    }
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    // Per-source checks first, so that a connection refused for its source
    // never costs another client its place below.
    const auto* src = reinterpret_cast<const sockaddr*>(&peer);
    if (limiter && !limiter->admit(src, now_ms_)) {
      ::close(fd);  // a connect storm from one address: refused before a byte is read
      continue;
    }
    const SourceAddress source = SourceAddress::of(src);
    if (pending && !pending->begin(source)) {
      ::close(fd);  // this address already holds its share of connections without CONNECT
      ++refused_.pending_cap;
      refused_.last_source = source;
      continue;
    }
    auto& counter = server_.connection_counter();
    if (max != 0 && counter.load(std::memory_order_relaxed) >= max && !shed_oldest_pending()) {
      if (pending) pending->end(source);
      ::close(fd);  // shed new connections before existing ones degrade
      ++refused_.full;
      continue;
    }
    uint32_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else if (conns_.size() < (size_t(1) << kSlotBits)) {
      slot = static_cast<uint32_t>(conns_.size());
      conns_.emplace_back();
    } else {  // 16M connections on one loop
      if (pending) pending->end(source);
      ::close(fd);
      ++refused_.full;
      continue;
    }
    counter.fetch_add(1, std::memory_order_relaxed);
    set_nodelay(fd);
    const uint64_t serial = next_conn_id_++ & ((uint64_t(1) << (48 - kSlotBits)) - 1);
    const uint64_t id = (uint64_t(id_) << 48) | (serial << kSlotBits) | slot;
    auto c = std::make_unique<Connection>(*this, id, fd, l.transport);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = static_cast<Pollable*>(c.get());
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      counter.fetch_sub(1, std::memory_order_relaxed);
      if (pending) pending->end(source);
      free_slots_.push_back(slot);
      continue;  // the Connection closes fd
    }
    conns_[slot] = std::move(c);
    ++live_;
    pending_.emplace(id, Pending{source, now_ms_});
    pending_order_.push_back(id);
  }
}

void Worker::handshake_over(uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  if (PendingHandshakes* p = server_.pending_handshakes()) p->end(it->second.source);
  pending_.erase(it);
}

bool Worker::still_pending(uint64_t id) const { return pending_.count(id) != 0; }

int64_t Worker::pending_since(uint64_t id) const {
  auto it = pending_.find(id);
  return it == pending_.end() ? -1 : it->second.since;
}

Connection* Worker::slot_of(uint64_t id) const {
  const size_t slot = id & ((uint64_t(1) << kSlotBits) - 1);
  if (slot >= conns_.size() || !conns_[slot] || conns_[slot]->id() != id) return nullptr;
  return conns_[slot].get();
}

bool Worker::shed_oldest_pending() {
  // A full server that refuses every newcomer can be kept full by sockets that
  // never send CONNECT (from many addresses, each under its per-source cap).
  // The oldest of them has proven nothing for the longest: it makes room. A
  // real client completes CONNECT within a round trip or a TLS handshake, so
  // one pending for this long is spared only while it is younger.
  const int64_t grace = std::min<int64_t>(2000, server_.options().connect_timeout_ms / 2);
  while (!pending_order_.empty() && !still_pending(pending_order_.front())) pending_order_.pop_front();
  if (pending_order_.empty()) return false;
  const uint64_t oldest = pending_order_.front();
  if (now_ms_ - pending_.find(oldest)->second.since < grace) return false;
  pending_order_.pop_front();
  slot_of(oldest)->close(mqtt::Reason::Success, "server full: the oldest connection without CONNECT makes room");
  ++refused_.shed;
  return true;
}

void Worker::report_refusals() {
  if (now_ms_ - refusals_logged_ms_ < 10'000) return;
  if (refused_.pending_cap == 0 && refused_.full == 0 && refused_.shed == 0) return;
  refusals_logged_ms_ = now_ms_;
  if (refused_.pending_cap)
    log::warn("mqtt loop {}: {} connections refused at accept: their address already had [mqtt] "
              "max_pending_connects_per_source = {} connections without CONNECT (last from {})",
              id_, refused_.pending_cap, server_.options().max_pending_connects_per_source,
              refused_.last_source.text());
  if (refused_.full || refused_.shed)
    log::warn("mqtt loop {}: at [mqtt] max_connections = {}: {} new connections refused, {} connections "
              "without CONNECT closed to make room", id_, server_.options().max_connections, refused_.full,
              refused_.shed);
  refused_ = {};
}

bool Worker::shed_without_descriptors(Listener& l) {
  // The listener stays readable while the connection waits in the backlog, so
  // returning would spin the loop. Give back the reserve, take the connection
  // and close it: the client sees a close, open connections carry on.
  const int err = errno;
  // Logged after the attempt, so the count includes this connection; at most one
  // line every 10 s, however many.
  auto warn = [&] {
    if (now_ms_ - emfile_logged_ms_ < 10'000) return;
    log::warn("accept: {}: {} new connections shed so far (raise the open file limit or lower "
              "[mqtt] max_connections)", strerror(err), emfile_shed_);
    emfile_logged_ms_ = now_ms_;
  };
  if (reserve_fd_ < 0) reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (reserve_fd_ >= 0) {
    ::close(reserve_fd_);
    const int fd = ::accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    const int accept_err = errno;
    if (fd >= 0) ::close(fd);
    // The loops' accepts wait on the accept mutex meanwhile; anything else
    // (a store, an HTTP client) may still take the freed slot, and then the
    // reserve is missing until a tick finds one.
    reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ++emfile_shed_;
      warn();
      return true;
    }
    // Linux reports EMFILE before it looks at the queue: another loop may have
    // taken the connection already. Nothing pending, nothing to spin on.
    if (accept_err == EAGAIN || accept_err == EWOULDBLOCK) return false;
  }
  // No descriptor to shed with: stop polling the listener until the next tick
  // (connections wait in the backlog meanwhile) instead of spinning on it.
  epoll_event ev{};
  ev.data.ptr = &l;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, l.fd, &ev);
  paused_listeners_.push_back(&l);
  warn();
  return false;
}

void Worker::resume_listeners() {
  for (Listener* l : paused_listeners_) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = l;
    epoll_ctl(epfd_, EPOLL_CTL_MOD, l->fd, &ev);
  }
  paused_listeners_.clear();
}

void Worker::update_interest(Connection* c, bool want_write) {
  if (c->fd() < 0) return;
  c->want_write = want_write;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (want_write ? EPOLLOUT : 0u);
  ev.data.ptr = static_cast<Pollable*>(c);
  epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd(), &ev);
}

void Worker::mark_dirty(Connection* c) { dirty_.push_back(c); }

void Worker::retire(Connection* c) { retired_.push_back(c); }

Connection* Worker::find(uint64_t id) {
  Connection* c = slot_of(id);
  return c && !c->closed() ? c : nullptr;
}

void Worker::deliver(std::vector<broker::RemoteDelivery>&& batch) {
  bool wake;
  {
    std::lock_guard lock(inbox_mu_);
    if (inbox_.empty()) inbox_ = std::move(batch);
    else inbox_.insert(inbox_.end(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
    wake = !inbox_signaled_;
    inbox_signaled_ = true;
  }
  if (wake) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wakefd_, &one, sizeof one);
  }
}

void Worker::post(std::function<void()> task) {
  bool wake;
  {
    std::lock_guard lock(inbox_mu_);
    tasks_.push_back(std::move(task));
    wake = !inbox_signaled_;
    inbox_signaled_ = true;
  }
  if (wake) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wakefd_, &one, sizeof one);
  }
}

void Worker::stop() {
  post([this] { stopping_ = true; });
}

void Worker::drain_inbox() {
  uint64_t v;
  [[maybe_unused]] auto n = ::read(wakefd_, &v, sizeof v);
  // The drained vectors go back empty, keeping their capacity: the next post()
  // or deliver() does not allocate (a fresh vector per drain cost the posting
  // thread an allocation per task, e.g. the store's held-PUBACK hand-back).
  auto& items = drained_items_;
  auto& tasks = drained_tasks_;
  {
    std::lock_guard lock(inbox_mu_);
    items.swap(inbox_);
    tasks.swap(tasks_);
    inbox_signaled_ = false;
  }
  static const broker::SessionPtr kNone;
  for (auto& d : items) {
    Connection* c = slot_of(d.session.client);  // closed connections too: their session may be the one
    d.session.ns->arrive(d, c ? c->session() : kNone, ctx_);
  }
  for (auto& t : tasks) t();
  items.clear();
  tasks.clear();
}

void Worker::flush_dirty() {
  if (sends_ && sends_->ready() && dirty_.size() >= kBatchFrom) return flush_dirty_batched();
  // Index loop: flushing may resume sessions that queue more output.
  for (size_t i = 0; i < dirty_.size(); ++i) dirty_[i]->flush();
  dirty_.clear();
}

// Every connection with output in a few system calls (net/send_batch.hpp).
// Output a result queues (a session resumed by a drained socket) waits for the
// next round.
void Worker::flush_dirty_batched() {
  std::vector<Connection*>& round = flushing_;
  while (!dirty_.empty()) {
    round.swap(dirty_);
    for (size_t from = 0; from < round.size(); from += SendBatch::kEntries) {
      const size_t to = std::min(round.size(), from + SendBatch::kEntries);
      for (size_t i = from; i < to; ++i) {
        const std::string_view bytes = round[i]->begin_flush();
        if (!bytes.empty()) sends_->add(round[i]->fd(), bytes, uint32_t(i));
      }
      broker::WorkerStats::add(ctx_.stats().batched_sends, sends_->size());
      sends_->run([&](uint32_t i, long n, int err) { round[i]->end_flush(n, err); });
    }
    round.clear();
  }
}

void Worker::tick() {
  if (!paused_listeners_.empty()) resume_listeners();
  report_refusals();
  while (!pending_order_.empty() && !still_pending(pending_order_.front())) pending_order_.pop_front();
  for (size_t i = 0; i < conns_.size(); ++i)
    if (conns_[i]) conns_[i]->tick(now_ms_);
  if (id_ == 0) {
    server_.broker().housekeeping(now_ms_, ctx_);
    if (now_ms_ - last_prune_ms_ >= 10000) {
      if (ConnectLimiter* l = server_.connect_limiter()) l->prune(now_ms_);
      if (PendingHandshakes* p = server_.pending_handshakes()) p->prune();
      last_prune_ms_ = now_ms_;
    }
  }
}

void Worker::close_all(mqtt::Reason reason, std::string_view why) {
  for (auto& c : conns_)
    if (c && !c->closed()) c->close(reason, why);
  ctx_.flush(server_);
  flush_dirty();
}

void Worker::shutdown_connections() {
  for (auto& c : conns_)
    if (c) c->close(mqtt::Reason::ServerShuttingDown, "server shutting down");
  ctx_.flush(server_);
  flush_dirty();
  retired_.clear();
  conns_.clear();
  live_ = 0;
}

// After an iteration that found its input already waiting (busy), decoded only
// a few PUBLISHes and acknowledgements and owes nothing unsent, the loop sleeps
// `[mqtt] coalesce_us` (50 µs) so that the next reads each bring a batch: at
// 100k msg/s and more, a read (and the TCP ACK it makes the kernel send) per
// message or two fills the core whatever the broker does per message. Output
// was flushed before the sleep. Iterations that owe replies sleep only while
// the probe finds that sleeping keeps the senders' rate (paced senders, not
// windows waiting on our replies) and saves CPU per packet (batched reads).
// Policy and reasons: net/coalesce.hpp.
void Worker::maybe_coalesce(bool busy, int64_t now_ns) {
  const uint32_t us = server_.options().coalesce_us;
  probe_.count(iter_packets_, now_ns, [] {
    timespec cpu{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    return int64_t(cpu.tv_sec) * 1'000'000'000 + cpu.tv_nsec;
  });
  const bool sleep = should_coalesce(us, busy, iter_owes_, iter_packets_, probe_.replies_may_wait());
  iter_packets_ = 0;
  iter_owes_ = Owes::Nothing;
  if (!sleep) return;
  timespec ts{static_cast<time_t>(us / 1000000), static_cast<long>(us % 1000000) * 1000};
  nanosleep(&ts, nullptr);
}

void Worker::run() {
  prctl(PR_SET_TIMERSLACK, 1000UL);  // maybe_coalesce's sleep: 1 µs slack, not the default 50
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  next_tick_ms_ = broker::now_ms() + kTickMs;
  // Two clock reads per iteration, around the wait (broker::now_ms's clock).
  using std::chrono::duration_cast;
  const auto ms = [](auto t) { return duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count(); };
  while (!stopping_) {
    const auto waited_from = std::chrono::steady_clock::now();
    now_ms_ = ms(waited_from);
    int timeout = static_cast<int>(std::max<int64_t>(0, next_tick_ms_ - now_ms_));
    int n = epoll_wait(epfd_, events, kMaxEvents, timeout);
    // Input that was already there when we asked: the loop is busy.
    const auto woke = std::chrono::steady_clock::now();
    const bool busy = n > 0 && woke - waited_from < std::chrono::microseconds(10);
    if (n < 0 && errno != EINTR) {
      log::error("epoll_wait: {}", strerror(errno));
      break;
    }
    now_ms_ = ms(woke);
    bool wake = false;
    for (int i = 0; i < n; ++i) {
      auto* tag = static_cast<Pollable*>(events[i].data.ptr);
      switch (tag->kind) {
        case Pollable::Kind::Listener:
          iter_owes_ = Owes::Attention;
          accept_all(*static_cast<Listener*>(tag));
          break;
        case Pollable::Kind::Wakeup:
          wake = true;
          break;
        case Pollable::Kind::Connection: {
          auto* c = static_cast<Connection*>(tag);
          if (!c->closed()) c->on_event(events[i].events);
          break;
        }
      }
    }
    if (wake) {
      iter_owes_ = Owes::Attention;
      drain_inbox();
    }
    ctx_.flush(server_);  // hand cross-thread deliveries over, one batch per thread
    flush_dirty();        // one write per connection with output
    if (now_ms_ >= next_tick_ms_) {
      tick();
      ctx_.flush(server_);
      flush_dirty();
      next_tick_ms_ = now_ms_ + kTickMs;
    }
    for (Connection* c : retired_) {
      const uint32_t slot = static_cast<uint32_t>(c->id() & ((uint64_t(1) << kSlotBits) - 1));
      pending_.erase(c->id());  // closed before CONNECT (handshake_over ended its count)
      conns_[slot].reset();
      free_slots_.push_back(slot);
      --live_;
    }
    retired_.clear();
    maybe_coalesce(busy, duration_cast<std::chrono::nanoseconds>(woke.time_since_epoch()).count());
  }
  shutdown_connections();
}

}  // namespace sluice::net
