#pragma once
// The broker's MessageBus for a node of a cluster (docs/cluster.md):
//  - QoS 0: routed here, then published on the core subject of its topic;
//    nodes subscribe once per distinct filter they hold and route what they
//    receive to their own subscribers (Namespace::publish_local).
//  - QoS 1/2: published to the JetStream stream SLUICE_MSG (the publisher's
//    acknowledgement waits for JetStream's), and routed on every node, this
//    one included, from one ordered consumer of the stream per node: in the
//    stream's order, without gaps.
//  - P2P QoS 0 to a client not here: on one subject every node listens to.
//  - Shared subscriptions: each node receives the message as above, and the
//    members' nodes agree which of them delivers it (SharedGroups).
// Everything received is routed on loop 0, in arrival order.
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/cluster.hpp"

namespace sluice::broker {
class Broker;
class Dispatcher;
}  // namespace sluice::broker

namespace sluice::cluster {

class NatsLink;
struct Envelope;
class ClusterDurability;
class SharedGroups;
class ClusterSessions;
struct NatsMessage;

struct BusStats {
  std::atomic<uint64_t> sent_qos0{0}, sent_logged{0}, received_qos0{0}, received_logged{0}, duplicates{0},
      unknown_namespace{0}, undecodable{0};
};

class ClusterBus final : public broker::MessageBus {
 public:
  static constexpr const char* kStream = "SLUICE_MSG";

  ClusterBus(NatsLink& link, ClusterDurability& durability, SharedGroups& shared, std::string node);
  ~ClusterBus() override;

  // Starts routing what the cluster sends into `broker`, on `d`'s loop 0.
  void start(broker::Broker& broker, broker::Dispatcher& d);
  void stop();
  const BusStats& stats() const { return stats_; }
  // Told each logged message's sequence once it is routed here (positions).
  void set_sessions(ClusterSessions* s) { sessions_ = s; }

  void forward(broker::Namespace& ns, const broker::MessagePtr& m, broker::WorkerContext& ctx) override;
  void forward_p2p(broker::Namespace& ns, std::string_view client_id, const broker::MessagePtr& m,
                   broker::WorkerContext& ctx) override;
  void interest_added(broker::Namespace& ns, std::string_view filter) override;
  void interest_removed(broker::Namespace& ns, std::string_view filter) override;
  bool serves_shared(broker::Namespace& ns, std::string_view group, std::string_view filter,
                     const broker::Message& m) override;

 private:
  struct Inbound {
    std::string ns;
    broker::MessagePtr message;
  };
  // This node's envelope for a message it sends (envelope.hpp); a new id each call.
  Envelope envelope(const broker::Namespace& ns, const broker::Message& m);
  void receive(NatsMessage&& msg);
  void drain(broker::WorkerContext& ctx);
  bool seen_before(const std::string& node, uint64_t id);
  std::vector<std::string> subjects_of(const broker::Namespace& ns, std::string_view filter) const;

  NatsLink& link_;
  ClusterDurability& durability_;
  SharedGroups& shared_;
  ClusterSessions* sessions_ = nullptr;
  const std::string node_;
  // "<node>-<this process's random id>-": a logged message's Nats-Msg-Id is
  // this and its envelope id. Ids restart at 1 with each process, and
  // JetStream drops (and acknowledges!) a message whose id it saw in its
  // duplicate window (2 min): without the process's id a node restarted
  // within that window had every QoS 1 message taken for a duplicate and lost.
  const std::string msg_id_prefix_;
  std::atomic<uint64_t> next_id_{0};
  BusStats stats_;

  // Core subjects this node subscribes to, by how many of its filters need each.
  std::mutex interest_mu_;
  struct Interest {
    size_t users = 0;
    uint64_t sub = 0;
  };
  std::unordered_map<std::string, Interest> interest_;
  bool started_ = false;

  // One message can reach this node through several of its subscriptions
  // (overlapping filters): each is routed once, by (node, id).
  std::mutex seen_mu_;
  struct Seen {
    std::unordered_set<uint64_t> ids;
    std::deque<uint64_t> order;
  };
  std::unordered_map<std::string, Seen> seen_;

  broker::Broker* broker_ = nullptr;
  broker::Dispatcher* dispatcher_ = nullptr;
  std::mutex in_mu_;
  std::vector<Inbound> inbox_;
  bool drain_scheduled_ = false;
  std::vector<uint64_t> fixed_subs_;  // the stream consumer and the P2P subject
};

}  // namespace sluice::cluster
