#pragma once
// Cross-thread delivery. A publish is routed on the publisher's thread; a
// recipient pinned to another thread is handed over through that thread's
// inbox. Hand-overs are collected per target thread while a read batch is
// processed and flushed once at its end: one lock and one wake-up per target
// thread per batch, not per message.
#include <functional>
#include <memory>
#include <vector>

#include "broker/message.hpp"
#include "broker/stats.hpp"

namespace sluice::broker {

class Namespace;

// Names a session across threads without holding it: its namespace, its serial
// (unique within the namespace), and the connection it was attached to when the
// delivery was handed over, which the target loop finds without a lock. A
// session that moved on or went offline meanwhile is found by its serial
// (Namespace::arrive); one that ended is let go. In a cluster the same key,
// with a node, names a session elsewhere.
struct SessionKey {
  Namespace* ns = nullptr;  // namespaces live as long as the broker
  uint64_t serial = 0;
  uint64_t client = 0;      // Client::id() at hand-over
};

struct RemoteDelivery {
  SessionKey session;
  MessagePtr message;
  SubOptions options;
  uint64_t pseq = 0;  // already recorded for persistence under this sequence number (0: not)
};

class WorkerContext;

// Implemented by the network layer (its event loops).
class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  virtual unsigned workers() const = 0;
  virtual void deliver(unsigned worker, std::vector<RemoteDelivery>&& batch) = 0;
  virtual void post(unsigned worker, std::function<void()> task) = 0;
  // Runs `task` on `worker`'s loop with that loop's context (to route there).
  virtual void run(unsigned worker, std::function<void(WorkerContext&)> task) = 0;
};

// Per event-loop thread state the broker uses while routing.
class WorkerContext {
 public:
  WorkerContext(unsigned id, unsigned workers, WorkerStats& stats)
      : id_(id), stats_(&stats), outbox_(workers) {}
  unsigned id() const { return id_; }
  WorkerStats& stats() { return *stats_; }
  // The newest persistence ticket this thread produced: a connection compares it
  // before and after routing a publish to know whether its PUBACK must wait.
  uint64_t ticket() const { return ticket_; }
  void note_ticket(uint64_t t) {
    if (t > ticket_) ticket_ = t;
  }
  void defer(unsigned worker, RemoteDelivery&& d) {
    outbox_[worker].push_back(std::move(d));
    pending_ = true;
  }
  // Hands every deferred delivery to its thread.
  void flush(Dispatcher& d) {
    if (!pending_) return;
    pending_ = false;
    for (unsigned w = 0; w < outbox_.size(); ++w) {
      if (!outbox_[w].empty()) {
        d.deliver(w, std::move(outbox_[w]));
        outbox_[w].clear();
      }
    }
  }

 private:
  unsigned id_;
  WorkerStats* stats_;
  bool pending_ = false;
  uint64_t ticket_ = 0;
  std::vector<std::vector<RemoteDelivery>> outbox_;
};

}  // namespace sluice::broker
