#pragma once
// The children of one topic-trie node, keyed by level name.
//
// Most nodes have a handful of children ("bench" under the root, "s" under it),
// and a PUBLISH looks one up per level: a short vector compared by size and
// bytes costs a fraction of hashing the level (std::hash is ~45 instructions
// for a short string, plus the bucket walk). Past kFlatMax children (a level
// of device ids, say) the node switches to a hash map for good.
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/topic_levels.hpp"

namespace sluice::broker {

template <class Node>
class LevelChildren {
 public:
  static constexpr size_t kFlatMax = 8;

  Node* find(std::string_view level) const {
    if (map_) {
      auto it = map_->find(level);
      return it == map_->end() ? nullptr : it->second.get();
    }
    for (const auto& [name, child] : flat_)
      if (same(name, level)) return child.get();
    return nullptr;
  }

  // The child named `level`, created empty if it does not exist.
  Node& get_or_add(std::string_view level) {
    if (Node* n = find(level)) return *n;
    auto child = std::make_unique<Node>();
    Node& ref = *child;
    if (!map_ && flat_.size() < kFlatMax) {
      flat_.emplace_back(std::string(level), std::move(child));
      return ref;
    }
    if (!map_) {
      map_ = std::make_unique<Map>();
      for (auto& [name, c] : flat_) map_->emplace(std::move(name), std::move(c));
      flat_.clear();
      flat_.shrink_to_fit();
    }
    map_->emplace(std::string(level), std::move(child));
    return ref;
  }

  void erase(std::string_view level) {
    if (map_) {
      if (auto it = map_->find(level); it != map_->end()) map_->erase(it);
      return;
    }
    for (size_t k = 0; k < flat_.size(); ++k) {
      if (same(flat_[k].first, level)) {
        flat_[k] = std::move(flat_.back());
        flat_.pop_back();
        return;
      }
    }
  }

  bool empty() const { return map_ ? map_->empty() : flat_.empty(); }
  size_t size() const { return map_ ? map_->size() : flat_.size(); }

 private:
  static bool same(const std::string& a, std::string_view b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), b.size()) == 0;
  }

  using Map = std::unordered_map<std::string, std::unique_ptr<Node>, StringHash, std::equal_to<>>;
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> flat_;
  std::unique_ptr<Map> map_;
};

}  // namespace sluice::broker
