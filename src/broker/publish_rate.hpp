#pragma once
// Publishes per wall-clock second across one instance's clients on this node
// (MaxInstanceMessagesPerSecond, counted by the access layer: mq/client_access),
// and, in a cluster, this node's share of the instance's limit (docs/cluster.md,
// "Limits"). Every node's heartbeat tells the others how many publishes it saw
// in its last full second; each node then takes, at the turn of each second,
//
//     share = limit * (mine + 1) / (mine + theirs + live nodes)
//
// (mine, theirs: publishes attempted in the last second here and on the other
// live nodes). The shares of all nodes add up to the limit, follow the demand
// within two seconds, and do not depend on what was admitted (attempts are
// counted, refused ones too), so they settle instead of swinging. On one node
// `remote_nodes` stays 0 and the share is the whole limit: today's check.
// A count racing the turn of a second may land in either: the limit is a
// throttle, not an invoice.
#include <atomic>
#include <cstdint>

namespace sluice::broker {

struct PublishRate {
  std::atomic<int64_t> second{0};   // the wall-clock second `count` is for
  std::atomic<uint32_t> count{0};   // publishes attempted in it (refused ones too)
  std::atomic<uint32_t> last{0};    // ... in the second before, if that was second - 1
  std::atomic<uint32_t> budget{0};  // this node's share of the limit this second (0: the whole limit)
  // Set about once a second by a cluster's heartbeats (cluster/leases.cpp).
  std::atomic<uint32_t> remote{0};        // attempted on the other live nodes in their last second
  std::atomic<uint32_t> remote_nodes{0};  // the other live nodes (0: one node)

  // The publishes of the last full second before `now_s` (for the heartbeat).
  uint32_t last_second(int64_t now_s) const {
    const int64_t s = second.load(std::memory_order_relaxed);
    if (s == now_s) return last.load(std::memory_order_relaxed);
    if (s == now_s - 1) return count.load(std::memory_order_relaxed);
    return 0;
  }
  // At the turn of a second: this node's share of `limit` (0: all of it).
  uint32_t share(uint32_t limit) const {
    const uint64_t nodes = remote_nodes.load(std::memory_order_relaxed);
    if (nodes == 0) return 0;
    const uint64_t mine = last.load(std::memory_order_relaxed);
    const uint64_t all = mine + remote.load(std::memory_order_relaxed) + nodes + 1;
    const uint64_t s = uint64_t(limit) * (mine + 1) / all;
    return s == 0 ? 1 : static_cast<uint32_t>(s);
  }
};

}  // namespace sluice::broker
