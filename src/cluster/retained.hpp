#pragma once
// Retained messages every node sees (docs/cluster.md): JetStream's key-value
// bucket SLUICE_RETAINED holds the retained message of each topic, written by
// the publishing node (ClusterDurability, so the PUBACK waits for it); each
// node watches the bucket and mirrors it in memory, so a SUBSCRIBE finds its
// retained messages without a network call.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/retained_store.hpp"

namespace sluice::cluster {

class NatsLink;
struct NatsMessage;

// One namespace's mirror. A local set() shows at once on this node; the
// bucket's watch brings every node's (this one's too) in the bucket's order.
class KvRetained final : public broker::RetainedMessages {
 public:
  void set(const broker::MessagePtr& m) override { store_.set(m); }
  std::vector<broker::MessagePtr> match(std::string_view filter, int64_t now_ms) const override {
    return store_.match(filter, now_ms);
  }
  size_t size() const override { return store_.size(); }
  std::vector<broker::MessagePtr> all() const override { return store_.all(); }

 private:
  broker::RetainedStore store_;
};

// The watch of the bucket, feeding each namespace's mirror.
class RetainedMirror {
 public:
  // Makes the store of namespace `ns` (ClusterSeams::retained); what the watch
  // already brought for it is put in at once.
  std::unique_ptr<broker::RetainedMessages> make(std::string_view ns);
  // Starts watching the bucket through `link`.
  void start(NatsLink& link);
  void stop();

 private:
  void apply(NatsMessage&& e);

  std::mutex mu_;
  std::map<std::string, KvRetained*, std::less<>> stores_;  // by namespace id
  std::map<std::string, std::vector<broker::MessagePtr>, std::less<>> parked_;  // for namespaces not made yet
  NatsLink* link_ = nullptr;
  uint64_t watch_ = 0;
};

}  // namespace sluice::cluster
