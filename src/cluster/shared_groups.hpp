#pragma once
// Shared subscriptions across nodes (docs/cluster.md, "Shared subscriptions"):
// each message goes to one member of a group cluster-wide.
//
// Every node that has members of a group ($share/<group>/<filter> in an
// instance) says so in the key-value bucket SLUICE_SHARED (key <group digest>.
// <node>), and watches the bucket, so every node knows which nodes have
// members of each group. Every node receives each matching message anyway (for
// its other subscriptions); for a group, the one node that delivers it is the
// message's route_key modulo the live member nodes, in name order: the same
// choice on every node, no message sent twice, no round trip per message. A
// node that dies stops counting when its lease runs out (NodeLeases).
// While the nodes' views differ (a member joining or leaving another node, in
// the few milliseconds the bucket takes to tell everyone), a message can reach
// two members or none: as with a member that leaves a group on one node.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sluice::cluster {

class NatsLink;
class NodeLeases;
struct NatsMessage;

class SharedGroups {
 public:
  static constexpr const char* kBucket = "SLUICE_SHARED";

  SharedGroups(NatsLink& link, NodeLeases& leases, std::string node);
  ~SharedGroups();
  void start();
  void stop();

  // A member of $share/<group>/<filter> joined / left on this node.
  void added(std::string_view ns, std::string_view group, std::string_view filter);
  void removed(std::string_view ns, std::string_view group, std::string_view filter);
  // True when this node delivers the message with `route_key` (0: by `topic`)
  // to the group (it has members here).
  bool serves(std::string_view ns, std::string_view group, std::string_view filter, uint64_t route_key,
              std::string_view topic) const;

 private:
  static std::string digest(std::string_view ns, std::string_view group, std::string_view filter);
  void announce(const std::string& digest, bool present);
  void on_entry(NatsMessage&& e);

  NatsLink& link_;
  NodeLeases& leases_;
  const std::string node_;
  std::mutex local_mu_;
  std::unordered_map<std::string, size_t> local_;  // by digest: members here
  mutable std::shared_mutex view_mu_;
  std::unordered_map<std::string, std::set<std::string>> view_;  // by digest: nodes with members
  uint64_t watch_ = 0;
};

}  // namespace sluice::cluster
