#pragma once
// Wills of a node that dies (docs/cluster.md, "Wills"): the will of every open
// connection is kept in the key-value bucket SLUICE_WILLS (key
// <node>.<incarnation>.<key>) from CONNECT until the connection closes; a node
// that is no longer alive (NodeLeases), or an earlier incarnation of this one,
// leaves its wills there. A survivor claims each such will with a conditional
// update on the entry's revision (one claim wins: the will goes out once),
// waits the will's delay, and publishes it unless the client id connected
// again somewhere since the node died, then deletes the entry.
//
// Each entry carries its client's identity (broker::ClientAccess::identity):
// the survivor decides the will against that identity's rights as they are
// when it goes out (AccessControl::will_guard_for), as the node that armed it
// would have (SPEC §4: a right is checked where it is used); a refused will is
// dropped, and audited there as on one node (mqtt.will.denied).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "broker/persistence.hpp"

namespace sluice::broker {
class AccessControl;
class Broker;
class Dispatcher;
}  // namespace sluice::broker

namespace sluice::cluster {

class NatsLink;
class NodeLeases;
class ClusterDirectory;
struct NatsMessage;

struct WillStats {
  std::atomic<uint64_t> armed{0}, taken_over{0}, published{0}, skipped{0}, denied{0};
};

class ClusterWills {
 public:
  static constexpr const char* kBucket = "SLUICE_WILLS";

  ClusterWills(NatsLink& link, NodeLeases& leases, ClusterDirectory& directory, std::string node);
  ~ClusterWills();
  // `access` decides the wills this node sends for nodes that died (null:
  // they go out as recorded). Before start().
  void set_access(broker::AccessControl* access) { access_ = access; }
  void start(broker::Broker& broker, broker::Dispatcher& d);
  void stop();
  const WillStats& stats() const { return stats_; }

  // A WillArmed / WillDisarmed record of this node (ClusterDurability).
  void record(const broker::PersistRecord& r);

 private:
  struct Entry {
    std::string node, incarnation;
    uint64_t revision = 0;
    std::string value;
  };
  struct Due {
    int64_t at_ms;  // steady clock
    int64_t found_gone_ms;  // broker::now_ms() when this node claimed it
    std::string key, ns, client_id;
    broker::MessagePtr message;
    std::string own_claim;  // a scheduled will: its session's claim ("<node> <epoch>"), not a comeback
    std::string identity;   // its client's (empty: no one to ask)
  };
  void on_entry(NatsMessage&& e);
  void sweep();
  bool orphaned(const Entry& e) const;

  NatsLink& link_;
  NodeLeases& leases_;
  ClusterDirectory& directory_;
  const std::string node_;
  const std::string incarnation_;
  WillStats stats_;
  broker::Broker* broker_ = nullptr;
  broker::Dispatcher* dispatcher_ = nullptr;
  broker::AccessControl* access_ = nullptr;

  std::mutex mu_;
  std::map<std::string, Entry> entries_;  // by key, what the watch says is in the bucket
  std::multimap<int64_t, Due> due_;       // wills this node claimed, by when they go out
  uint64_t watch_ = 0;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread sweeper_;
};

}  // namespace sluice::cluster
