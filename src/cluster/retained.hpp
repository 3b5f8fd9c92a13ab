#pragma once
// Retained messages every node sees (docs/cluster.md): JetStream's key-value
// bucket SLUICE_RETAINED holds the retained message of each topic, written by
// the publishing node (ClusterDurability, so the PUBACK waits for it); each
// node watches the bucket and mirrors it in memory, so a SUBSCRIBE finds its
// retained messages without a network call. A mirror lags the bucket by the
// watch's delay, so a SUBSCRIBE's retained messages wait until this node's
// mirror has caught up with the bucket as it was when the SUBSCRIBE came (one
// request to JetStream per batch of subscribers): a retained message whose
// publisher has its PUBACK is seen from every node.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "broker/retained_store.hpp"

namespace sluice::cluster {

class NatsLink;
struct NatsMessage;
class RetainedMirror;

// One namespace's mirror. A local set() shows at once on this node; the
// bucket's watch brings every node's (this one's too) in the bucket's order.
class KvRetained final : public broker::RetainedMessages {
 public:
  explicit KvRetained(RetainedMirror& mirror) : mirror_(mirror) {}
  void set(const broker::MessagePtr& m) override { store_.set(m); }
  std::vector<broker::MessagePtr> match(std::string_view filter, int64_t now_ms) const override {
    return store_.match(filter, now_ms);
  }
  size_t size() const override { return store_.size(); }
  std::vector<broker::MessagePtr> all() const override { return store_.all(); }
  bool mirrored() const override { return true; }
  void when_current(std::function<void()> ready) override;

 private:
  RetainedMirror& mirror_;
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
  // Stops the watch; callers still waiting in when_current are let go uncalled.
  void stop();
  // Calls `ready` (on the mirror's own thread) once the watch has brought
  // every write the bucket held when this was called; after kMaxWait without
  // it (JetStream unreachable: the node is about to stop serving), anyway.
  void when_current(std::function<void()> ready);
  static constexpr int64_t kMaxWaitMs = 2000;

 private:
  void apply(NatsMessage&& e);
  // The entry's namespace and message (an empty one for a deletion); nullopt
  // for a key that is not one of ours.
  static std::optional<std::pair<std::string, broker::MessagePtr>> decode(const NatsMessage& e);
  void catch_up_loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::function<void()>> waiting_;  // for the next request to JetStream
  uint64_t applied_ = 0;  // the bucket's last sequence the watch brought
  uint64_t target_ = 0;   // the sequence a batch of callers waits for (0: none)
  bool stopping_ = false;
  std::thread catch_up_;
  std::map<std::string, KvRetained*, std::less<>> stores_;  // by namespace id
  std::map<std::string, std::vector<broker::MessagePtr>, std::less<>> parked_;  // for namespaces not made yet
  NatsLink* link_ = nullptr;
  uint64_t watch_ = 0;
};

}  // namespace sluice::cluster
