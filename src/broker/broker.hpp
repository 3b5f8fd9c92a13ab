#pragma once
// The broker: every namespace, plus the counters of every worker thread.
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
  uint64_t connects = 0, protocol_errors = 0;
  size_t sessions = 0, subscriptions = 0, retained = 0;
};

class Broker {
 public:
  explicit Broker(unsigned workers, NamespaceConfig defaults = {});
  ~Broker();

  unsigned workers() const { return static_cast<unsigned>(stats_.size()); }
  const NamespaceConfig& defaults() const { return defaults_; }

  std::shared_ptr<Namespace> get_or_create(std::string_view id);
  std::shared_ptr<Namespace> get_or_create(std::string_view id, const NamespaceConfig& cfg);
  std::shared_ptr<Namespace> find(std::string_view id);

  // Runs every namespace's housekeeping (session expiry, delayed wills).
  void housekeeping(int64_t now_ms, WorkerContext& ctx);

  // Durable state for every namespace, present and future; set before the loops start.
  void set_persistence(Persistence* p);
  // Puts the state read back from the store in place (namespaces must exist:
  // state of a namespace no longer configured is dropped from the store).
  // Returns the number of sessions restored.
  size_t restore(Recovered&& r);

  WorkerStats& stats(unsigned worker) { return *stats_[worker]; }
  Totals totals();

 private:
  NamespaceConfig defaults_;
  Persistence* persist_ = nullptr;
  std::vector<std::unique_ptr<WorkerStats>> stats_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Namespace>, StringHash, std::equal_to<>> spaces_;
};

}  // namespace sluice::broker
