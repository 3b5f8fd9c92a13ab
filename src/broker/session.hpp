#pragma once
// One MQTT session: what outlives a connection when the client asks for it
// (subscriptions, QoS 1/2 state, queued messages) and the QoS flows to the
// client while it is connected.
//
// Threading: a session is touched by its client's worker thread and, when a
// message is routed to it, by the publisher's thread. Its state is guarded by
// its own mutex; lock order is always trie -> session. Client methods are only
// called on the client's own worker (deliveries from elsewhere are handed over
// through WorkerContext::defer).
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "broker/client.hpp"
#include "broker/ring.hpp"
#include "broker/dispatch.hpp"
#include "broker/message.hpp"
#include "broker/persistence.hpp"
#include "broker/small_mutex.hpp"
#include "broker/will.hpp"

namespace sluice::broker {

class Namespace;

// Messages queued for clients that are offline or behind, and the memory they
// hold (Message::footprint plus the queue entry; a message queued for several
// sessions counts once per session, an upper bound). One budget per namespace
// (the per-instance offline-message cap) whose `parent` is the server's budget
// (the memory bound across all instances). Shared with the sessions so that a
// session outliving its namespace (held by a pending cross-thread delivery)
// still has counters to release into.
struct QueueBudget {
  std::atomic<int64_t> queued{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<uint64_t> refused{0};    // messages not queued because this budget was full
  std::atomic<int64_t> byte_limit{0};  // 0 = none (the server's budget sets it)
  std::shared_ptr<QueueBudget> parent;

  void add(int64_t n, int64_t b) {
    for (QueueBudget* q = this; q; q = q->parent.get()) {
      q->queued.fetch_add(n, std::memory_order_relaxed);
      q->bytes.fetch_add(b, std::memory_order_relaxed);
    }
  }
  // The nearest budget, this one or an ancestor, that `b` more bytes would overflow.
  QueueBudget* over_bytes(int64_t b) {
    for (QueueBudget* q = this; q; q = q->parent.get()) {
      const int64_t lim = q->byte_limit.load(std::memory_order_relaxed);
      if (lim > 0 && q->bytes.load(std::memory_order_relaxed) + b > lim) return q;
    }
    return nullptr;
  }
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Namespace& ns, std::string client_id, uint64_t serial);
  ~Session();

  const std::string& client_id() const { return client_id_; }
  // What one queued message holds in memory, for the byte budgets (QueueBudget).
  static int64_t queued_cost(const Message& m);
  // Unique within the namespace: the session's key (broker/dispatch.hpp SessionKey).
  uint64_t serial() const { return serial_; }
  // The session directory's claim this session was last connected under.
  uint64_t epoch() const { return epoch_.load(std::memory_order_relaxed); }
  void set_epoch(uint64_t e) { epoch_.store(e, std::memory_order_relaxed); }
  Namespace& ns() const { return ns_; }
  bool online() const { return online_.load(std::memory_order_relaxed); }

  // Routes one message to this session from any thread. `pseq` != 0: the message
  // was already recorded for persistence (handed over from another thread).
  void deliver(const MessagePtr& m, const SubOptions& o, WorkerContext& ctx, uint64_t pseq = 0);
  // A retained message sent because of a new subscription (retain flag set).
  void deliver_retained(const MessagePtr& m, const SubOptions& o, WorkerContext& ctx);

  // --- called by the connection, on its worker ---
  // Makes `c` the session's client. A client it replaces is kicked (session
  // taken over) inside the lock; the returned pointer is for identity only and
  // must not be dereferenced.
  Client* attach(Client* c);
  // Forgets `c` if it is still the session's client. Returns true if it was.
  bool detach(Client* c, int64_t now_ms);
  bool is_client(const Client* c);
  // After (re)connect: resend unacknowledged messages (DUP), PUBRELs, then the queue.
  void resume(WorkerContext& ctx);
  // Sends queued messages while the in-flight window and the connection allow.
  void pump(WorkerContext& ctx);
  // Acknowledgements from the client. False: unknown packet id.
  bool on_puback(uint16_t id, WorkerContext& ctx);
  bool on_pubrec(uint16_t id, bool failed, WorkerContext& ctx);  // then send PUBREL (unless failed)
  bool on_pubcomp(uint16_t id, WorkerContext& ctx);
  // Incoming QoS 2 (exactly once, method B: deliver on PUBLISH, remember the id until PUBREL).
  bool incoming_qos2_seen(uint16_t id);      // true: duplicate, do not route again
  uint64_t incoming_qos2_store(uint16_t id);  // returns its persistence ticket (0: none)
  bool incoming_qos2_release(uint16_t id);   // PUBREL: false if unknown
  size_t incoming_qos2_count();

  // Subscriptions this session holds (the trie holds the routing copy).
  void remember_subscription(std::string_view filter, const SubOptions& o);
  void forget_subscription(std::string_view filter);
  std::vector<std::string> subscription_filters();
  std::vector<std::pair<std::string, uint8_t>> subscriptions_with_qos();
  size_t subscription_count();

  // Where the current (or last) connection came from, for the device status
  // query: the peer address and whether it asked for a clean start.
  void set_origin(std::string peer, bool clean_start);
  std::pair<std::string, bool> origin();

  // Session expiry (seconds; 0 = ends with the connection; 0xFFFFFFFF = never).
  // A session with an expiry is persistent: it gets a store key and its state is recorded.
  void set_expiry_interval(uint32_t s);
  uint32_t expiry_interval() const { return expiry_interval_; }
  int64_t disconnected_at() const { return disconnected_at_; }

  // A will waiting out its delay (published by the namespace's housekeeping,
  // if its guard still allows it then).
  void set_pending_will(Will will, int64_t due_ms);
  // At start-up (Namespace::restore_will): a will recovered from a connection
  // that was open; the record `armed_key` is removed once the will is published
  // or cancelled. Replaces (and disarms) an older recovered will.
  void set_recovered_will(MessagePtr will, int64_t due_ms, uint64_t armed_key);
  Will take_pending_will(int64_t now_ms, bool force);

  size_t queued();
  uint64_t dropped() const { return dropped_; }

  // Cluster (SessionDirectory::resume): a session resumed from another node
  // holds what is routed to it while the messages it has not acknowledged
  // are read back from the message log; finish_replay delivers those (in log
  // order, up to log sequence `upto`), then what was held, skipping what the
  // replay already brought, and from then on skips live messages at or below
  // `upto`. Called on the loop that routes the log (loop 0).
  // A message a shared subscription brings (SubOptions::shared) is the
  // exception: the replay brings only those the old node's members were given
  // (the cluster decided the others for this node, or for another member), so
  // a held or live one at or below `upto` is skipped only when the replay
  // brought that very message.
  void hold();
  void finish_replay(uint64_t upto, const std::vector<std::pair<MessagePtr, SubOptions>>& replay,
                     WorkerContext& ctx);
  // Cluster (SessionDirectory::resumable), before the session is attached:
  // its QoS 2 state on the node it comes from (MQTT 4.3.3): ids of incoming
  // messages received and not released yet (a resent PUBLISH is acknowledged,
  // not routed again), and outgoing ones the client acknowledged with PUBREC
  // as (packet id, log sequence): PUBREL is sent again, not the message. The
  // records of both are written when the session gets its store key here.
  // Also the outgoing QoS 1 / 2 messages sent there and not acknowledged, as
  // (packet id, log sequence): their ids are reserved (nothing sent meanwhile
  // takes them) and finish_replay sends each again under its id with DUP set
  // when the replay brings its body (MQTT 4.4); one the replay does not bring
  // frees its id then.
  void adopt_qos2(const std::vector<uint16_t>& incoming, const std::vector<std::pair<uint16_t, uint64_t>>& released,
                  const std::vector<std::pair<uint16_t, uint64_t>>& sent);

  // Set (under the namespace's session lock) when the session has ended.
  bool ended() const { return ended_; }
  // Ended here because the session resumed on another node (Namespace::evict).
  void mark_moved() { moved_.store(true, std::memory_order_relaxed); }
  bool moved() const { return moved_.load(std::memory_order_relaxed); }
  void mark_ended();

  // Durable state (broker/persistence.hpp). 0: not persisted.
  uint64_t store_key() const { return store_key_; }
  // At start-up, before any client: the state read back from the store.
  void restore(RecoveredSession& r, int64_t now_ms, int64_t wall_now_ms);

 private:
  struct Inflight {
    uint16_t id;
    MessagePtr message;
    uint8_t qos;
    bool retain;
    bool released;  // PUBREC received, PUBREL sent: waiting for PUBCOMP
    uint32_t subscription_id;
    uint32_t seq;   // allocation number of the packet id (in-flight order)
    uint64_t pseq;  // persistence sequence number (0: not persisted)
  };
  struct Queued {
    MessagePtr message;
    uint8_t qos;
    bool retain;
    uint32_t subscription_id;
    uint64_t pseq;
  };

  void deliver_locked(const MessagePtr& m, uint8_t qos, bool retain, uint32_t sub_id,
                      WorkerContext& ctx, uint64_t pseq);
  bool send_new_locked(const MessagePtr& m, uint8_t qos, bool retain, uint32_t sub_id,
                       uint64_t pseq);
  void enqueue_locked(const MessagePtr& m, uint8_t qos, bool retain, uint32_t sub_id,
                      WorkerContext& ctx, uint64_t pseq);
  // Persistence records (no-ops for a session without a store key).
  uint64_t persist_queued_locked(const MessagePtr& m, uint8_t qos, bool retain, const SubOptions& o,
                                 WorkerContext& ctx);
  // Cluster: the replay brought this log sequence (through a shared subscription).
  bool replayed_locked(uint64_t log_seq, const SubOptions& o) const;
  // Cluster: the replay brought the body of a message adopted as sent
  // (adopt_qos2): sent again under its id with DUP. False when it is not one.
  bool resend_adopted(const MessagePtr& m, const SubOptions& o, WorkerContext& ctx);

 public:
  // Cluster, after finish_replay: the loop of the client when messages adopted
  // as sent wait there to be sent again (the replay runs on loop 0), and the
  // call that sends them on that loop.
  std::optional<unsigned> adopted_resend_worker();
  void send_adopted(WorkerContext& ctx);

 private:
  void persist_done(uint64_t pseq);
  void persist_msg(PersistRecord::Kind kind, uint64_t pseq, uint16_t packet_id);
  void pump_locked(WorkerContext& ctx);
  void pop_queued_locked();  // queue_.pop_front() and its budget released
  void drop_will_records_locked();  // the pending will is published or cancelled: forget its records
  void drop_queued_locked(uint64_t pseq, WorkerContext& ctx);  // a message not queued after all
  uint16_t next_packet_id_locked();
  size_t find_inflight(uint16_t id);  // index, or inflight_.size()
  size_t window_locked() const;

  Namespace& ns_;
  const std::string client_id_;
  const uint64_t serial_;
  std::atomic<uint64_t> epoch_{0};
  SmallMutex mu_;
  std::atomic<bool> online_{false};
  uint16_t next_id_ = 0;
  Client* client_ = nullptr;
  uint32_t id_seq_ = 0;
  Ring<Inflight> inflight_;
  Ring<Queued> queue_;
  std::map<std::string, SubOptions, std::less<>> subscriptions_;
  uint32_t expiry_interval_ = 0;
  bool clean_start_ = false;  // beside expiry_interval_: fills its padding (idle session bytes)
  bool ended_ = false;
  std::atomic<bool> moved_{false};
  int64_t disconnected_at_ = 0;
  uint64_t dropped_ = 0;
  std::string peer_;
  uint64_t store_key_ = 0;
  // What most sessions never use, behind one pointer allocated at the first use
  // (under mu_): an idle session is what a broker holds most of (issue 20,
  // docs/benchmarks.md: 120 bytes of every idle connection).
  struct Held {  // resumed from the cluster (hold / finish_replay)
    MessagePtr message;
    SubOptions options;
    uint64_t pseq;
  };
  struct Rare {
    std::shared_ptr<QueueBudget> budget;  // set at the first enqueue; released as the queue drains
    int64_t queued_bytes = 0;             // queue_'s share of budget->bytes
    std::unordered_set<uint16_t> incoming_qos2;
    Will pending_will;
    int64_t pending_will_due = 0;
    uint64_t armed_will_key = 0;  // pending_will came from a live-will record (restart)
    bool holding = false;
    uint64_t replayed_upto = 0;
    std::vector<Held> held;
    std::vector<uint64_t> replayed_shared;  // log sequences the replay brought through a share (sorted)
    // In-flight entries adopted as sent whose body the replay has not brought
    // yet (adopt_qos2): qos 0 there, the message a stand-in with the log sequence.
    size_t reserved = 0;
    std::vector<uint16_t> resend_due;  // bodies filled on loop 0 for a client on another loop
  };
  Rare& rare() {
    if (!rare_) rare_ = std::make_unique<Rare>();
    return *rare_;
  }
  std::unique_ptr<Rare> rare_;
};

using SessionPtr = std::shared_ptr<Session>;

}  // namespace sluice::broker
