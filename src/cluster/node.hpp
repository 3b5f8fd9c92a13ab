#pragma once
// One Sluice node of a cluster (docs/cluster.md): its NATS connection, the
// message stream and retained bucket it makes sure exist, and what it plugs
// into the broker: the bus, the session directory, the retained mirror, and the
// durability that takes the place of broker.db.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "broker/cluster.hpp"
#include "broker/persistence.hpp"

namespace sluice::broker {
class AccessControl;
class Broker;
class Dispatcher;
}  // namespace sluice::broker

namespace sluice::cluster {

class NatsLink;
class ClusterDurability;
class ClusterBus;
class RetainedMirror;
class ClusterDirectory;
class NodeLeases;
class PeerCalls;
class PgLeases;
class SharedGroups;
class SharedFailover;
class ClusterWills;
class ClusterSessions;
struct SessionStats;
struct FailoverStats;
struct WillStats;
struct BusStats;
struct DirectoryStats;

struct ClusterOptions {
  std::vector<std::string> nats;  // NATS URLs (any servers of the NATS cluster)
  std::string node_name;          // unique in the cluster
  int replicas = 1;               // of the stream and the bucket (1 or 3)
  int64_t message_max_age_s = 3LL * 24 * 3600;  // how long the log keeps QoS 1/2 messages
  int64_t message_max_bytes = 0;                // and how much of them (0: no bound)
  int64_t cut_off_ms = 3000;  // NATS lost, or the lease not renewed, this long: the node stops serving its clients
  // The control store's conninfo (--postgres): the node's lease in
  // cluster_nodes (pg_leases.hpp). Empty: NATS's heartbeat alone, as before.
  std::string postgres;
};

class ClusterNode {
 public:
  // Connects to NATS and makes sure the stream and the bucket exist; throws
  // std::runtime_error with a message an operator can act on.
  explicit ClusterNode(ClusterOptions opts);
  ~ClusterNode();

  const ClusterOptions& options() const { return opts_; }
  // What the broker's namespaces plug into (Broker::set_cluster, before any exists).
  broker::ClusterSeams seams();
  // The broker's and the server's Persistence.
  broker::Persistence& durability();
  // Once the loops run: routes what the cluster sends; `on_durable(ticket)`
  // releases acknowledgements (net::Server::durable).
  void start(broker::Broker& broker, broker::Dispatcher& d, std::function<void(uint64_t)> on_durable);
  // `f(false)` when this node has been cut off from NATS, or could not renew
  // its lease in PostgreSQL, for cut_off_ms (it must stop serving its clients
  // rather than run as a second brain), `f(true)` when both are back (and the
  // lease taken again, with a new epoch). Set before start().
  void on_serving(std::function<void(bool)> f) { on_serving_ = std::move(f); }
  // What decides the wills of dead nodes this node sends (their clients'
  // rights when they go out). Set before start().
  void set_access(broker::AccessControl& access);
  void stop();

  bool connected() const;
  bool serving() const { return serving_.load(std::memory_order_relaxed); }
  // The lease in PostgreSQL (null without --postgres).
  const PgLeases* pg_leases() const { return pg_leases_.get(); }
  // Which nodes are alive and what their beats say (cluster/leases.hpp).
  const NodeLeases& leases() const { return *leases_; }
  const BusStats& stats() const;
  const DirectoryStats& directory_stats() const;
  const WillStats& will_stats() const;
  const SessionStats& session_stats() const;
  const FailoverStats& failover_stats() const;
  // Questions to the other nodes, and this node's answers (the management
  // API's per-client calls; cluster/peer_calls.hpp). Started by the wiring.
  PeerCalls& peers();

 private:
  // Beyond a lease, how long the others may take to act on a node's death
  // (their check every 100 ms, on a busy machine).
  static constexpr int64_t kDeathNoticeMs = 1000;
  void wait_out_earlier_process();

  ClusterOptions opts_;
  std::unique_ptr<NatsLink> link_;
  std::unique_ptr<ClusterDurability> durability_;
  std::unique_ptr<PgLeases> pg_leases_;  // before leases_, which reads it, so it is destroyed after
  std::unique_ptr<NodeLeases> leases_;
  std::unique_ptr<PeerCalls> peers_;  // after leases_, which it reads
  std::unique_ptr<SharedGroups> shared_;
  std::unique_ptr<SharedFailover> failover_;  // after shared_ and leases_, which it uses
  std::shared_ptr<ClusterBus> bus_;
  std::unique_ptr<RetainedMirror> retained_;
  std::shared_ptr<ClusterDirectory> directory_;
  std::unique_ptr<ClusterWills> wills_;
  std::unique_ptr<ClusterSessions> sessions_;
  std::function<void(bool)> on_serving_;
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool stopping_ = false;
  std::atomic<bool> serving_{true};
  std::thread watchdog_;
};

}  // namespace sluice::cluster
