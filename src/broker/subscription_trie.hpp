#pragma once
// Topic filters of one namespace, as a trie of levels with '+' and '#' nodes.
// Matching a topic visits only the branches that can match it, so the cost
// depends on the topic's depth and the matching filters, not on how many
// filters exist.
//
// Concurrency: the caller holds mutex() shared to match, exclusive to change.
// Sessions are held by raw pointer: a session removes every filter it holds
// (under the exclusive lock) before it is destroyed.
#include <atomic>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <type_traits>
#include <string>
#include <string_view>
#include <vector>

#include "broker/level_children.hpp"
#include "broker/message.hpp"
#include "broker/small_mutex.hpp"
#include "broker/topic_levels.hpp"

namespace sluice::broker {

class Session;

class SubscriptionTrie {
 public:
  SubscriptionTrie();
  ~SubscriptionTrie();

  // Adds or replaces the subscription of `s` to `filter` (which may be
  // "$share/<group>/<inner>"). Returns true if it did not exist before.
  bool subscribe(Session* s, std::string_view filter, const SubOptions& o);
  // Returns true if it existed.
  bool unsubscribe(Session* s, std::string_view filter);

  // Calls f(Session*, const SubOptions&) for every subscription matching
  // `topic`; for each shared group, once for one member chosen round-robin
  // (online members first, via `online`).
  using MatchFn = void (*)(void* ctx, Session* s, const SubOptions& o);
  // Asked once per matching shared group before a member is chosen: false
  // leaves the group out (another node of a cluster serves it this time).
  using GroupFn = bool (*)(void* ctx, std::string_view group, std::string_view filter);
  void match(std::string_view topic, MatchFn f, void* ctx, GroupFn g = nullptr, void* gctx = nullptr) const;

  template <class F>
  void match(std::string_view topic, F&& f) const {
    using FF = std::remove_reference_t<F>;
    match(topic, [](void* c, Session* s, const SubOptions& o) { (*static_cast<FF*>(c))(s, o); }, &f);
  }
  // As above; `g(group, inner filter)` decides for each matching shared group.
  template <class F, class G>
  void match_groups(std::string_view topic, F&& f, G&& g) const {
    using FF = std::remove_reference_t<F>;
    using GG = std::remove_reference_t<G>;
    match(
        topic, MatchFn([](void* c, Session* s, const SubOptions& o) { (*static_cast<FF*>(c))(s, o); }), &f,
        GroupFn([](void* c, std::string_view group, std::string_view filter) {
          return (*static_cast<GG*>(c))(group, filter);
        }),
        &g);
  }

  size_t size() const { return count_.load(std::memory_order_relaxed); }
  SmallSharedMutex& mutex() const { return mu_; }

 private:
  struct Entry {
    Session* session;
    SubOptions options;
  };
  struct SharedGroup {
    std::string name;
    std::string filter;  // the inner filter ("a/+" of "$share/g/a/+")
    std::vector<Entry> members;
    mutable std::atomic<size_t> next{0};
  };
  struct Node {
    LevelChildren<Node> children;
    std::unique_ptr<Node> plus;
    std::unique_ptr<Node> hash;
    std::vector<Entry> subs;
    std::vector<std::unique_ptr<SharedGroup>> shared;
    bool empty() const {
      return children.empty() && !plus && !hash && subs.empty() && shared.empty();
    }
  };

  static std::unique_ptr<Node>* wildcard_slot(Node& n, std::string_view level);
  struct Visit {
    MatchFn f;
    void* ctx;
    GroupFn g;
    void* gctx;
  };
  void collect(const Node& n, const Visit& v) const;
  void match_from(const Node& n, const std::vector<std::string_view>& levels, size_t i, const Visit& v) const;
  bool remove(Node& n, const std::vector<std::string_view>& levels, size_t i,
              std::string_view group, Session* s);

  mutable SmallSharedMutex mu_;  // 4 bytes, reads inline (broker/small_mutex.hpp)
  std::unique_ptr<Node> root_;
  std::atomic<size_t> count_{0};
};

}  // namespace sluice::broker
