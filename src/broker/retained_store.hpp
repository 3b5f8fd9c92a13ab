#pragma once
// Retained messages of one namespace. The single node keeps them in a trie of
// topic levels, so that a wildcard subscription finds its retained messages
// without scanning all.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/message.hpp"
#include "broker/topic_levels.hpp"

namespace sluice::broker {

// The retained messages of one namespace, wherever they are kept (a seam:
// broker/cluster.hpp). Thread-safe.
class RetainedMessages {
 public:
  virtual ~RetainedMessages() = default;
  // Stores m for its topic; an empty payload deletes the topic's retained message.
  virtual void set(const MessagePtr& m) = 0;
  // Retained messages whose topic matches `filter` (not expired at now_ms).
  virtual std::vector<MessagePtr> match(std::string_view filter, int64_t now_ms) const = 0;
  virtual size_t size() const = 0;
  // Every retained message (for persistence and tests).
  virtual std::vector<MessagePtr> all() const = 0;
  // A store that mirrors retained messages kept elsewhere (a cluster's) may
  // lag behind a write another node has already acknowledged. False for this
  // process's own store, whose match() is always up to date.
  virtual bool mirrored() const { return false; }
  // A mirrored store calls `ready`, on some other thread, once it holds every
  // retained message written anywhere before this call (or has given up
  // waiting for it); this process's store calls it at once.
  virtual void when_current(std::function<void()> ready) { ready(); }
};

// In this process's memory: the single node's retained messages.
class RetainedStore final : public RetainedMessages {
 public:
  RetainedStore();
  ~RetainedStore() override;
  void set(const MessagePtr& m) override;
  std::vector<MessagePtr> match(std::string_view filter, int64_t now_ms) const override;
  size_t size() const override;
  std::vector<MessagePtr> all() const override;

 private:
  struct Node {
    std::unordered_map<std::string, std::unique_ptr<Node>, StringHash, std::equal_to<>> children;
    MessagePtr message;
  };
  void collect_all(const Node& n, std::vector<MessagePtr>& out, int64_t now, bool skip_dollar) const;
  void match_from(const Node& n, const std::vector<std::string_view>& f, size_t i,
                  std::vector<MessagePtr>& out, int64_t now) const;
  bool erase(Node& n, const std::vector<std::string_view>& levels, size_t i);

  mutable std::mutex mu_;
  std::unique_ptr<Node> root_;
  size_t count_ = 0;
};

}  // namespace sluice::broker
