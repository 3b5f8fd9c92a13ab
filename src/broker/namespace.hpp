#pragma once
// A namespace is one isolated MQTT world: its own client ids, sessions,
// subscriptions and retained messages. In Sluice each ApsaraMQ instance is one
// namespace; anonymous development mode uses a single default one.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/cluster.hpp"
#include "broker/config.hpp"
#include "broker/dispatch.hpp"
#include "broker/observer.hpp"
#include "broker/persistence.hpp"
#include "broker/publish_rate.hpp"
#include "broker/retained_store.hpp"
#include "broker/session.hpp"
#include "broker/subscription_trie.hpp"

namespace sluice::broker {

class ClientAccess;

// Message tracing hooks (ApsaraMQ's message trace); set per namespace, null = off.
class MessageTracer {
 public:
  virtual ~MessageTracer() = default;
  virtual void published(const Message& m, std::string_view client_id) = 0;
  virtual void delivered(const Message& m, std::string_view client_id, uint8_t qos) = 0;
};

class Namespace {
 public:
  // `seams`: where the namespace reaches beyond this node (broker/cluster.hpp).
  Namespace(std::string id, NamespaceConfig cfg, const ClusterSeams& seams = ClusterSeams::single_node());
  ~Namespace();

  const std::string& id() const { return id_; }
  // The limits and switches in force. Thread-safe: set_config publishes a new
  // immutable copy (old copies stay alive with the namespace, so a reference
  // taken by a reader stays valid); connections and sessions see the change on
  // their next read, new connections at once.
  const NamespaceConfig& config() const { return *config_.load(std::memory_order_acquire); }
  void set_config(const NamespaceConfig& cfg);

  // Messages queued in this namespace's sessions, against max_queued_total.
  const std::shared_ptr<QueueBudget>& queue_budget() const { return budget_; }

  struct Attached {
    SessionPtr session;
    bool session_present = false;
    uint64_t epoch = 0;  // the session directory's claim on the client id
    Client* previous = nullptr;  // a connection taken over (already kicked; do not dereference)
    // The delayed will of a session that clean_start ended: the session's end
    // comes before the Will Delay, so the caller publishes it (MQTT 5 3.1.3.2.2)
    // with publish_will.
    Will ended_will;
  };
  // Finds or creates the session for `client_id` and attaches `c` to it.
  // clean_start discards an existing session.
  Attached connect(std::string_view client_id, bool clean_start, Client* c, int64_t now_ms);
  // The session directory gave `client_id` to a connection on another node:
  // this node's session of it ends if it holds the claim `epoch` or an older
  // one (not one made here since), and its connection is closed with Session
  // taken over (0x8E). Returns true if a session ended. `resumed`: the
  // session goes on there, so its delayed will is cancelled rather than sent
  // (a will without delay still goes out, as on a takeover here).
  bool evict(std::string_view client_id, uint64_t epoch, bool resumed, WorkerContext& ctx);

  // The connection `c` of session `s` has closed. `will` (may be empty) is
  // published now, after `will_delay_s`, or when the session ends, whichever
  // comes first, if its guard allows it then; a new connection to the session
  // cancels a delayed will.
  void disconnect(const SessionPtr& s, Client* c, Will will, uint32_t will_delay_s, WorkerContext& ctx);
  // Publishes a will whose time has come, unless its guard refuses it now.
  void publish_will(const Will& will, WorkerContext& ctx);

  // The will of an open connection, recorded so that a crash of the server
  // cannot swallow it (returns 0 without persistence); the connection disarms
  // it when it closes, after disconnect().
  // `who`: the connection's rights, whose identity a cluster keeps with the will.
  uint64_t arm_will(std::string_view client_id, const MessagePtr& will, uint32_t delay_s,
                    const ClientAccess* who = nullptr);
  void disarm_will(uint64_t key);

  // Routes a message to every matching subscription, stores it if retained,
  // and hands it to the bus for other nodes.
  void publish(const MessagePtr& m, WorkerContext& ctx);
  // A message another node published (from the bus): this node's subscribers
  // only; its retained state is the publishing node's to record.
  void publish_local(const MessagePtr& m, WorkerContext& ctx);
  // Cluster: a logged message of the shared group $share/<group>/<filter>
  // that a member node won and never delivered because it died, re-decided
  // for this node (cluster/shared_failover.hpp): to one member of that group
  // here, picked as routing picks one (connected members first); nobody
  // else. False when the group has no member here now.
  bool deliver_to_group(const MessagePtr& m, std::string_view group, std::string_view filter, WorkerContext& ctx);
  // A hand-over from another loop arrives: `hint` is the session of the
  // connection the delivery was addressed to (null if it is gone); the session
  // is found by its key otherwise, and a delivery to a session that has ended
  // is let go (and its persistence record with it).
  void arrive(RemoteDelivery& d, const SessionPtr& hint, WorkerContext& ctx);

  // Returns true if the subscription is new (false: replaced an existing one).
  bool subscribe(const SessionPtr& s, std::string_view filter, const SubOptions& o);
  bool unsubscribe(const SessionPtr& s, std::string_view filter);
  // Sends the retained messages matching `filter` to the subscriber.
  void send_retained(const SessionPtr& s, std::string_view filter, const SubOptions& o,
                     WorkerContext& ctx);

  // Expires sessions and publishes delayed wills whose time has come.
  void housekeeping(int64_t now_ms, WorkerContext& ctx);

  SessionPtr find_session(std::string_view client_id);
  SessionPtr find_session(uint64_t serial);
  size_t session_count();
  // Sessions with a connection now, on this node (kept by Session::attach/detach).
  int64_t online_count() const { return online_.load(std::memory_order_relaxed); }
  void add_online(int64_t d) { online_.fetch_add(d, std::memory_order_relaxed); }
  // Connections to this namespace on the other nodes of a cluster, as they last
  // reported them (0 on one node): per-instance limits count them too.
  int64_t remote_connections() const { return remote_connections_.load(std::memory_order_relaxed); }
  void set_remote_connections(int64_t n) { remote_connections_.store(n, std::memory_order_relaxed); }
  // The instance's publishes per second here, and its share of the limit in a cluster.
  PublishRate& publish_rate() { return publish_rate_; }
  size_t subscription_count() const { return trie_.size(); }
  size_t retained_count() const { return retained_->size(); }
  RetainedMessages& retained() { return *retained_; }

  // Thread-safe; the tracer must outlive the namespace or be reset first.
  void set_tracer(std::shared_ptr<MessageTracer> t) { std::atomic_store(&tracer_, std::move(t)); }
  std::shared_ptr<MessageTracer> tracer() const { return std::atomic_load(&tracer_); }
  bool tracing() const { return tracing_.load(std::memory_order_relaxed); }
  void set_tracing(bool on) { tracing_.store(on, std::memory_order_relaxed); }

  // Rules and status events (broker/observer.hpp); null = none (the usual case).
  // The observer must outlive the namespace or be reset first.
  void set_observer(Observer* o) { observer_.store(o, std::memory_order_release); }
  Observer* observer() const { return observer_.load(std::memory_order_acquire); }

  // Live sessions of this namespace (for admin queries and revocation).
  std::vector<SessionPtr> sessions();

  // Messages published into this namespace and deliveries routed to its
  // subscribers since start (the console's per-instance charts). Summed over
  // per-loop slots: each slot is written only by its own loop thread.
  struct MessageCounts {
    uint64_t in = 0, out = 0, denied = 0;
  };
  MessageCounts message_counts() const;
  // A PUBLISH or a subscription the instance's rules or the client's rights refused
  // (called by the refusing loop, off the routing path).
  void count_denied(unsigned loop) { WorkerStats::add(counts_[loop % kCountSlots].denied); }

  // Durable state: set once before the event loops start (null = in memory only).
  void set_persistence(Persistence* p) { persist_ = p; }
  Persistence* persistence() const { return persist_; }
  // At start-up: a session read back from the store (offline until its client returns).
  void restore(RecoveredSession& r, int64_t now_ms, int64_t wall_now_ms);
  // At start-up, after the sessions: the will of a connection that was open when
  // the server stopped. It goes out as if the connection had dropped at the
  // restart: after its delay if its session persists, else at the first
  // housekeeping (the session ended with the crash); a reconnect first cancels it.
  void restore_will(RecoveredWill& w, int64_t now_ms);

 private:
  void route_local(const MessagePtr& m, WorkerContext& ctx);
  // P2P: to the named client's session if it is here. False: no such session here.
  bool deliver_p2p(std::string_view client_id, const MessagePtr& m, WorkerContext& ctx);
  void end_session_locked(const SessionPtr& s);
  // Keyed by the session's own client id (s->client_id()).
  void add_session_locked(const SessionPtr& s);
  // The session map's key is a view of its session's own client id (no second
  // copy of it per session: issue 20, idle connection bytes); an entry's key
  // and value are replaced together.
  using SessionMap = std::unordered_map<std::string_view, SessionPtr, StringHash, std::equal_to<>>;
  // Removes the entry `it` from the session map (the session itself is ended by the caller).
  void forget_session_locked(SessionMap::iterator it);

  const std::string id_;
  std::atomic<const NamespaceConfig*> config_;
  std::mutex config_mu_;
  std::vector<std::unique_ptr<const NamespaceConfig>> configs_;  // every config ever in force
  std::shared_ptr<QueueBudget> budget_ = std::make_shared<QueueBudget>();
  std::mutex sessions_mu_;  // lock order: sessions_mu_ -> trie -> session
  SessionMap sessions_;
  std::unordered_map<uint64_t, Session*> by_serial_;  // the same sessions, by their key
  std::vector<std::weak_ptr<Session>> offline_;  // disconnected sessions with a pending will or expiry
  SubscriptionTrie trie_;
  std::unique_ptr<RetainedMessages> retained_;
  std::shared_ptr<MessageBus> bus_;
  std::shared_ptr<SessionDirectory> directory_;
  std::atomic<uint64_t> next_serial_{1};
  std::atomic<int64_t> online_{0}, remote_connections_{0};
  PublishRate publish_rate_;
  struct alignas(64) CountSlot {
    std::atomic<uint64_t> in{0}, out{0}, denied{0};
  };
  static constexpr unsigned kCountSlots = 64;  // loop ids beyond this share slots (counts stay close)
  std::unique_ptr<CountSlot[]> counts_ = std::make_unique<CountSlot[]>(kCountSlots);
  std::shared_ptr<MessageTracer> tracer_;
  std::atomic<Observer*> observer_{nullptr};
  std::atomic<bool> tracing_{false};
  Persistence* persist_ = nullptr;
};

}  // namespace sluice::broker
