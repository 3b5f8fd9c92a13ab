#pragma once
// Shared subscriptions across nodes (docs/cluster.md, "Shared subscriptions"):
// each message goes to one member of a group cluster-wide.
//
// Every node that has members of a group ($share/<group>/<filter> in an
// instance) says so in the key-value bucket SLUICE_SHARED (key <group digest>.
// <node>), and watches the bucket, so every node knows which nodes have
// members of each group. Every node receives each matching message anyway (for
// its other subscriptions); for a group, the one node that delivers it is the
// member node that wins the message's route_key by rendezvous hashing (each
// node scores hash(node, key), the highest wins): the same choice on every
// node, no message sent twice, no round trip per message. A node that dies
// stops counting when its lease runs out (NodeLeases: SharedFailover calls
// set_gone on loop 0, and re-decides the share it won and never delivered,
// docs/cluster.md "A dead member node's share"), unless it held an
// offline persistent member that no node holds since (its session entry is
// still the dead node's): then it goes on counting, nobody delivers its
// share, and the member's replay on resume recomputes that share from the log
// (docs/cluster.md, "A dead holder's share"). Rendezvous hashing, not a
// modulo, so that a view with fewer nodes gives the dead node every message
// it won in a larger one: the replay may leave out nodes that joined later.
// While the nodes' views differ (a member joining or leaving another node, in
// the few milliseconds the bucket takes to tell everyone), a message can reach
// two members or none: as with a member that leaves a group on one node.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sluice::cluster {

class NatsLink;
struct NatsMessage;

class SharedGroups {
 public:
  static constexpr const char* kBucket = "SLUICE_SHARED";

  // Whether the dead node `node` still holds an offline member of the group
  // `digest` (ClusterSessions::parks); called under the view's lock.
  using Parks = std::function<bool(const std::string& digest, const std::string& node)>;
  // A member node as the view has it: its name and the log sequence it had
  // routed when it announced the group (0: not said, an older node).
  struct Member {
    std::string node;
    uint64_t joined = 0;
  };
  // A group with members here whose view lists a node about to stop
  // counting: what SharedFailover re-decides that node's share by.
  struct Orphaned {
    std::string ns, group, filter;
    std::vector<Member> members;  // those that count, the dead node included
  };

  SharedGroups(NatsLink& link, std::string node);
  ~SharedGroups();
  // Both before start().
  void set_parks(Parks p) { parks_ = std::move(p); }
  void set_frontier(std::function<uint64_t()> f) { frontier_ = std::move(f); }
  void start();
  void stop();

  // A member of $share/<group>/<filter> joined / left on this node.
  void added(std::string_view ns, std::string_view group, std::string_view filter);
  void removed(std::string_view ns, std::string_view group, std::string_view filter);
  // True when this node delivers the message with `route_key` (0: by `topic`)
  // to the group (it has members here).
  bool serves(std::string_view ns, std::string_view group, std::string_view filter, uint64_t route_key,
              std::string_view topic) const;
  // The group's member nodes that count now (this one, live ones, dead ones
  // that park a member), in name order.
  std::vector<Member> members(std::string_view ns, std::string_view group, std::string_view filter) const;

  // The other nodes any group's view lists (SharedFailover asks NodeLeases about each).
  std::vector<std::string> other_nodes() const;
  // The groups with members here whose view lists `node` and where `node`
  // parks no offline member (that share waits for its session), each with
  // the member nodes that count now. Called on loop 0, before set_gone.
  std::vector<Orphaned> orphaned(const std::string& node) const;
  // `node` stops (true) or starts again (false) counting in every group
  // (unless it parks a member). On loop 0: between two routed messages.
  void set_gone(const std::string& node, bool gone);

  // Whether the bucket still lists `node` as a member of a group: entries an
  // earlier process under that name left when it was killed.
  static bool lists(NatsLink& link, const std::string& node);

  static std::string digest(std::string_view ns, std::string_view group, std::string_view filter);
  // The key a message is decided by (its route key, else its topic's hash).
  static uint64_t key_of(uint64_t route_key, std::string_view topic);
  // Of `nodes` (not empty), the one that delivers the message with `key`.
  static const std::string& winner(const std::vector<const std::string*>& nodes, uint64_t key);

 private:
  bool counts_locked(const std::string& digest, const std::string& node) const;
  void announce(const std::string& digest, bool present, uint64_t joined);
  void on_entry(NatsMessage&& e);

  NatsLink& link_;
  const std::string node_;
  mutable std::mutex local_mu_;
  std::unordered_map<std::string, size_t> local_;  // by digest: members here
  struct Name {
    std::string ns, group, filter;
  };
  std::unordered_map<std::string, Name> names_;  // by digest: the groups with members here
  mutable std::shared_mutex view_mu_;
  std::unordered_map<std::string, std::map<std::string, uint64_t>> view_;  // by digest: nodes with members, joined
  std::set<std::string, std::less<>> gone_;  // nodes taken for dead: they count only where they park a member
  Parks parks_;
  std::function<uint64_t()> frontier_;
  uint64_t watch_ = 0;
};

}  // namespace sluice::cluster
