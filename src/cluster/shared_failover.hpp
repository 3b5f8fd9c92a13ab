#pragma once
// A dead member node's share of shared subscriptions (docs/cluster.md, "A
// dead member node's share"): the QoS 1/2 messages of a group that a node
// won by rendezvous hashing and never delivered because it died (kill -9),
// from the last frontier it said it had routed until the survivors stopped
// counting it. The messages are in the log (stored once); only the decision
// died with the node, and every survivor can recompute it.
//
//  - Each node says in its heartbeat which log sequence it had routed a
//    moment before (NodeLeases: its frontier, sampled 250 ms before the beat
//    so that what it routed had time to reach its clients).
//  - This node stops counting a node in its shared groups only here, on
//    loop 0 (where the log is routed), when NodeLeases takes it for dead:
//    every message routed here up to this node's frontier E at that moment
//    was decided with the dead node counting, every later one without it.
//  - Then, for each group with members here that the dead node was a member
//    of (and where it parks no offline persistent member: that share waits
//    for its session, "A dead holder's share"), it reads the log over
//    (F, E] (F: the dead node's last heartbeat frontier) and takes each
//    message the dead node won among the member nodes counted then if this
//    node wins it among the same nodes without the dead one. Rendezvous
//    hashing makes that one survivor per message, and each survivor's own E
//    covers the second its view differed from the others'.
//  - Delivered on loop 0 to one local member of the group
//    (Namespace::deliver_to_group): rights, No Local and queues as live.
// A node taken for dead that comes back is counted again (its lapse's share
// went to the survivors: duplicates, not losses).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "broker/message.hpp"
#include "cluster/shared_groups.hpp"

namespace sluice::broker {
class Broker;
class Dispatcher;
}  // namespace sluice::broker

namespace sluice::cluster {

class NatsLink;
class NodeLeases;

struct FailoverStats {
  std::atomic<uint64_t> deaths{0};      // member nodes this node stopped counting
  std::atomic<uint64_t> recovered{0};   // messages of their share delivered here
  std::atomic<uint64_t> unknown{0};     // deaths whose frontier was never heard (nothing recovered)
};

// Whether `self` takes message `m` over from `dead`: `dead` won it among the
// members counted when it was routed (`then`: those whose join sequence is
// below its log sequence, or not said), and `self` wins it among them
// without `dead`.
bool takes_over(const std::vector<SharedGroups::Member>& then, const std::string& dead, const std::string& self,
                const broker::Message& m);

class SharedFailover {
 public:
  SharedFailover(NatsLink& link, NodeLeases& leases, SharedGroups& groups, std::string node);
  ~SharedFailover();

  // `frontier`: what this node has routed of the log (ClusterSessions), read
  // on loop 0; `start_frontier`: where its routing began.
  void start(broker::Broker& broker, broker::Dispatcher& d, std::function<uint64_t()> frontier,
             uint64_t start_frontier);
  void stop();
  const FailoverStats& stats() const { return stats_; }

 private:
  struct Job {
    std::string dead;
    uint64_t from = 0, upto = 0;  // (F, E]
    std::vector<SharedGroups::Orphaned> groups;
  };
  void loop();
  void poll();
  void recover(Job job);

  NatsLink& link_;
  NodeLeases& leases_;
  SharedGroups& groups_;
  const std::string node_;
  FailoverStats stats_;
  broker::Broker* broker_ = nullptr;
  broker::Dispatcher* dispatcher_ = nullptr;
  std::function<uint64_t()> frontier_;
  uint64_t start_frontier_ = 0;
  std::set<std::string> gone_;  // the watcher's own: nodes it has asked loop 0 to stop counting

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<Job> jobs_;
  std::thread thread_;
};

}  // namespace sluice::cluster
