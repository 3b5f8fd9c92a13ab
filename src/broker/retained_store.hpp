#pragma once
// Retained messages of one namespace, in a trie of topic levels so that a
// wildcard subscription finds its retained messages without scanning all.
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/message.hpp"
#include "broker/topic_levels.hpp"

namespace sluice::broker {

class RetainedStore {
 public:
  RetainedStore();
  ~RetainedStore();
  // Stores m for its topic; an empty payload deletes the topic's retained message.
  void set(const MessagePtr& m);
  // Retained messages whose topic matches `filter` (not expired at now_ms).
  std::vector<MessagePtr> match(std::string_view filter, int64_t now_ms) const;
  size_t size() const;
  // Every retained message (for persistence and tests).
  std::vector<MessagePtr> all() const;

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
