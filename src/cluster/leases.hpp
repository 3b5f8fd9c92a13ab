#pragma once
// Which nodes of the cluster are alive (docs/cluster.md, "Node leases"): each
// node says so on the core subject sln.<node> every second; a node not heard
// for kExpireMs is taken for dead by the others. What depends on it: the nodes
// that serve a shared subscription (a dead node's members get nothing more),
// the wills of a dead node. The same beat carries the node's connections per
// namespace, so per-instance connection limits count every live node's
// (Namespace::remote_connections, a second old at most), and its publishes per
// namespace in its last full second, from which each node takes its share of
// the instance's message rate limit (broker/publish_rate.hpp).
// With --postgres a node is also dead when its lease in PostgreSQL ran out
// (PgLeases): dead if either says so.
// The beat also says what the node had routed of the message log a moment
// before (its frontier): a survivor recomputes a dead node's share of shared
// subscriptions after it (SharedFailover).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sluice::broker {
class Broker;
}

namespace sluice::cluster {

class NatsLink;
class PgLeases;

class NodeLeases {
 public:
  static constexpr int64_t kBeatMs = 1000;
  static constexpr int64_t kExpireMs = 4000;
  static constexpr int64_t kFrontierLagMs = 250;  // a beat carries the frontier sampled this long before

  NodeLeases(NatsLink& link, std::string node);
  ~NodeLeases();
  // `broker` (may be null): whose connections the beat reports, and whose
  // namespaces learn the other nodes' counts.
  void start(broker::Broker* broker = nullptr);
  void stop();

  // The leases in PostgreSQL (may be null: without --postgres). Before start().
  void set_pg(const PgLeases* pg) { pg_ = pg; }
  // What this node has routed of the log (ClusterSessions::frontier), for
  // the beat. Before start().
  void set_frontier(std::function<uint64_t()> f) { frontier_ = std::move(f); }
  // The frontier `node`'s last beat carried (nullopt: none heard since this
  // node started, or an older node that does not say).
  std::optional<uint64_t> frontier_of(const std::string& node) const;

  // This node; else not a node whose lease in PostgreSQL ran out (as this
  // node's last fresh read of cluster_nodes found); else a node heard within
  // kExpireMs, or any node during this node's first kExpireMs (before it
  // could have heard the others).
  bool alive(const std::string& node) const;
  // The other nodes alive now (as alive() says of each node heard), in name order.
  std::vector<std::string> others_alive() const;
  // False during this node's first kExpireMs: others_alive() may still miss
  // nodes it has not heard yet.
  bool settled() const { return Clock::now() - started_ >= std::chrono::milliseconds(kExpireMs); }

  // What each node's last beat said of namespace `ns`, this node's own too, in
  // name order: the per-node figures of DescribeMqttMetaData and the console
  // (issue 17). A node not heard for kForgetMs is left out.
  struct NodeFigures {
    std::string node;
    bool alive = false;
    int64_t heard_ms_ago = 0;
    int64_t connections = 0, publishes_last_second = 0;
  };
  static constexpr int64_t kForgetMs = 300000;
  std::vector<NodeFigures> figures(std::string_view ns) const;

 private:
  using Clock = std::chrono::steady_clock;
  NatsLink& link_;
  const std::string node_;
  Clock::time_point started_;
  mutable std::shared_mutex mu_;
  std::map<std::string, Clock::time_point, std::less<>> seen_;
  struct Counts {
    int64_t connections = 0, publishes = 0;
  };
  std::map<std::string, std::map<std::string, Counts>, std::less<>> counts_;  // by node, by namespace
  broker::Broker* broker_ = nullptr;
  const PgLeases* pg_ = nullptr;
  std::map<std::string, uint64_t, std::less<>> frontiers_;  // by node, from its last beat
  std::function<uint64_t()> frontier_;
  void on_beat(const std::string& data);
  std::string beat(uint64_t frontier) const;
  void apply_counts();
  // `node` was heard within kExpireMs of `now` (mu_ held).
  bool heard_locked(const std::string& node, Clock::time_point now) const;
  // Heard so, and its lease in PostgreSQL (if any) not run out (mu_ held).
  bool live_locked(const std::string& node, Clock::time_point now) const;
  uint64_t sub_ = 0;
  std::mutex beat_mu_;
  std::condition_variable beat_cv_;
  bool stopping_ = false;
  std::thread beat_;
};

}  // namespace sluice::cluster
