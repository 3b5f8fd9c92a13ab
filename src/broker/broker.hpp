#pragma once
// The broker: every namespace, plus the counters of every worker thread.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/config.hpp"
#include "broker/namespace.hpp"
#include "broker/stats.hpp"

namespace sluice::broker {

struct Totals {
  uint64_t messages_in = 0, messages_out = 0, bytes_in = 0, bytes_out = 0, dropped = 0;
  uint64_t connects = 0, protocol_errors = 0, batched_sends = 0;
  size_t sessions = 0, subscriptions = 0, retained = 0;
  int64_t queued = 0, queued_bytes = 0;  // in session queues, all namespaces
  uint64_t queue_refused = 0;            // messages not queued: the server's memory budget was full
};

class Broker {
 public:
  explicit Broker(unsigned workers, NamespaceConfig defaults = {});

  // Where namespaces reach beyond this node (broker/cluster.hpp); set before
  // the first namespace is made. The default is the single node's.
  void set_cluster(ClusterSeams seams) { seams_ = std::move(seams); }
  ~Broker();

  unsigned workers() const { return static_cast<unsigned>(stats_.size()); }
  const NamespaceConfig& defaults() const { return defaults_; }

  std::shared_ptr<Namespace> get_or_create(std::string_view id);
  std::shared_ptr<Namespace> get_or_create(std::string_view id, const NamespaceConfig& cfg);
  std::shared_ptr<Namespace> find(std::string_view id);
  // Calls f on every namespace (not under the broker's lock).
  void for_each(const std::function<void(Namespace&)>& f);

  // Runs every namespace's housekeeping (session expiry, delayed wills).
  void housekeeping(int64_t now_ms, WorkerContext& ctx);

  // Durable state for every namespace, present and future; set before the loops start.
  void set_persistence(Persistence* p);
  // Puts the state read back from the store in place (namespaces must exist:
  // state of a namespace no longer configured is dropped from the store).
  // Returns the number of sessions restored.
  size_t restore(Recovered&& r);

  // Memory that all session queues together may hold (0 = unlimited). Beyond it
  // a message is not queued for a session (each session's own bounds drop its
  // oldest instead): offline backlogs cannot take the server down.
  void set_queue_memory_limit(uint64_t bytes) { queues_->byte_limit.store(static_cast<int64_t>(bytes)); }
  uint64_t queue_memory_limit() const { return static_cast<uint64_t>(queues_->byte_limit.load()); }

  WorkerStats& stats(unsigned worker) { return *stats_[worker]; }
  Totals totals();

 private:
  NamespaceConfig defaults_;
  ClusterSeams seams_ = ClusterSeams::single_node();
  Persistence* persist_ = nullptr;
  std::shared_ptr<QueueBudget> queues_ = std::make_shared<QueueBudget>();  // every namespace's parent
  std::vector<std::unique_ptr<WorkerStats>> stats_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Namespace>, StringHash, std::equal_to<>> spaces_;
};

}  // namespace sluice::broker
