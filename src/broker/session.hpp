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

namespace sluice::broker {

class Namespace;

// Messages queued across the sessions of one namespace (the per-instance
// offline-message cap). Shared with the sessions so that a session outliving
// its namespace (held by a pending cross-thread delivery) still has a counter
// to release into.
struct QueueBudget {
  std::atomic<int64_t> queued{0};
  std::atomic<uint64_t> refused{0};  // messages not queued because the namespace was full
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Namespace& ns, std::string client_id, uint64_t serial);
  ~Session();

  const std::string& client_id() const { return client_id_; }
  uint64_t serial() const { return serial_; }
  Namespace& ns() const { return ns_; }
  bool online() const { return online_.load(std::memory_order_relaxed); }

  // Routes one message to this session from any thread.
  void deliver(const MessagePtr& m, const SubOptions& o, WorkerContext& ctx);
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
  void incoming_qos2_store(uint16_t id);
  bool incoming_qos2_release(uint16_t id);   // PUBREL: false if unknown
  size_t incoming_qos2_count();

  // Subscriptions this session holds (the trie holds the routing copy).
  void remember_subscription(std::string_view filter, const SubOptions& o);
  void forget_subscription(std::string_view filter);
  std::vector<std::string> subscription_filters();
  size_t subscription_count();

  // Session expiry (seconds; 0 = ends with the connection; 0xFFFFFFFF = never).
  void set_expiry_interval(uint32_t s) { expiry_interval_ = s; }
  uint32_t expiry_interval() const { return expiry_interval_; }
  int64_t disconnected_at() const { return disconnected_at_; }

  // A will waiting out its delay (published by the namespace's housekeeping).
  void set_pending_will(MessagePtr will, int64_t due_ms);
  MessagePtr take_pending_will(int64_t now_ms, bool force);

  size_t queued();
  uint64_t dropped() const { return dropped_; }

  // Set (under the namespace's session lock) when the session has ended.
  bool ended() const { return ended_; }
  void mark_ended() { ended_ = true; }

 private:
  struct Inflight {
    uint16_t id;
    MessagePtr message;
    uint8_t qos;
    bool retain;
    bool released;  // PUBREC received, PUBREL sent: waiting for PUBCOMP
    uint32_t subscription_id;
    uint32_t seq;   // allocation number of the packet id (in-flight order)
  };
  struct Queued {
    MessagePtr message;
    uint8_t qos;
    bool retain;
    uint32_t subscription_id;
  };

  void deliver_locked(const MessagePtr& m, uint8_t qos, bool retain, uint32_t sub_id,
                      WorkerContext& ctx);
  bool send_new_locked(const MessagePtr& m, uint8_t qos, bool retain, uint32_t sub_id);
  void enqueue_locked(const MessagePtr& m, uint8_t qos, bool retain, uint32_t sub_id,
                      WorkerContext& ctx);
  void pump_locked(WorkerContext& ctx);
  void pop_queued_locked();  // queue_.pop_front() and the namespace's budget released
  uint16_t next_packet_id_locked();
  size_t find_inflight(uint16_t id);  // index, or inflight_.size()
  size_t window_locked() const;

  Namespace& ns_;
  const std::string client_id_;
  const uint64_t serial_;
  std::mutex mu_;
  Client* client_ = nullptr;
  std::atomic<bool> online_{false};
  uint16_t next_id_ = 0;
  uint32_t id_seq_ = 0;
  Ring<Inflight> inflight_;
  Ring<Queued> queue_;
  std::shared_ptr<QueueBudget> budget_;  // set at the first enqueue; released as the queue drains
  std::unordered_set<uint16_t> incoming_qos2_;
  std::map<std::string, SubOptions, std::less<>> subscriptions_;
  uint32_t expiry_interval_ = 0;
  int64_t disconnected_at_ = 0;
  MessagePtr pending_will_;
  int64_t pending_will_due_ = 0;
  uint64_t dropped_ = 0;
  bool ended_ = false;
};

using SessionPtr = std::shared_ptr<Session>;

}  // namespace sluice::broker
