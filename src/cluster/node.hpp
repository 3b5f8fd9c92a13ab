#pragma once
// One Sluice node of a cluster (docs/cluster.md): its NATS connection, the
// message stream and retained bucket it makes sure exist, and what it plugs
// into the broker: the bus, the session directory, the retained mirror, and the
// durability that takes the place of broker.db.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/cluster.hpp"
#include "broker/persistence.hpp"

namespace sluice::broker {
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
class SharedGroups;
struct BusStats;
struct DirectoryStats;

struct ClusterOptions {
  std::vector<std::string> nats;  // NATS URLs (any servers of the NATS cluster)
  std::string node_name;          // unique in the cluster
  int replicas = 1;               // of the stream and the bucket (1 or 3)
  int64_t message_max_age_s = 3LL * 24 * 3600;  // how long the log keeps QoS 1/2 messages
  int64_t message_max_bytes = 0;                // and how much of them (0: no bound)
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
  void stop();

  bool connected() const;
  const BusStats& stats() const;
  const DirectoryStats& directory_stats() const;

 private:
  ClusterOptions opts_;
  std::unique_ptr<NatsLink> link_;
  std::unique_ptr<ClusterDurability> durability_;
  std::unique_ptr<NodeLeases> leases_;
  std::unique_ptr<SharedGroups> shared_;
  std::shared_ptr<ClusterBus> bus_;
  std::unique_ptr<RetainedMirror> retained_;
  std::shared_ptr<ClusterDirectory> directory_;
};

}  // namespace sluice::cluster
