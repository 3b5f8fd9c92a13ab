#include "broker/subscription_trie.hpp"

#include "broker/session.hpp"
#include "mqtt/topic.hpp"

namespace sluice::broker {

namespace {
thread_local std::vector<std::string_view> t_levels;
}  // namespace

// The node's '+' or '#' child slot when `level` is that wildcard, else nullptr.
std::unique_ptr<SubscriptionTrie::Node>* SubscriptionTrie::wildcard_slot(Node& n, std::string_view level) {
  if (level == "+") return &n.plus;
  if (level == "#") return &n.hash;
  return nullptr;
}

SubscriptionTrie::SubscriptionTrie() : root_(std::make_unique<Node>()) {}
SubscriptionTrie::~SubscriptionTrie() = default;

bool SubscriptionTrie::subscribe(Session* s, std::string_view filter, const SubOptions& o) {
  std::string_view group, inner = filter;
  bool shared = mqtt::parse_shared(filter, group, inner);
  auto& levels = t_levels;
  split_levels(inner, levels);
  Node* n = root_.get();
  for (auto level : levels) {
    if (std::unique_ptr<Node>* slot = wildcard_slot(*n, level)) {
      if (!*slot) *slot = std::make_unique<Node>();
      n = slot->get();
    } else {
      n = &n->children.get_or_add(level);
    }
  }
  std::vector<Entry>* list = &n->subs;
  if (shared) {
    SharedGroup* g = nullptr;
    for (auto& sg : n->shared)
      if (sg->name == group) g = sg.get();
    if (!g) {
      n->shared.push_back(std::make_unique<SharedGroup>());
      g = n->shared.back().get();
      g->name = std::string(group);
      g->filter = std::string(inner);
    }
    list = &g->members;
  }
  SubOptions so = o;
  so.shared = shared;  // what a delivery through this entry came through (a cluster's share)
  for (auto& e : *list) {
    if (e.session == s) {
      e.options = so;
      return false;
    }
  }
  list->push_back(Entry{s, so});
  count_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool SubscriptionTrie::remove(Node& n, const std::vector<std::string_view>& levels, size_t i,
                              std::string_view group, Session* s) {
  if (i == levels.size()) {
    auto erase_from = [&](std::vector<Entry>& v) {
      for (size_t k = 0; k < v.size(); ++k) {
        if (v[k].session == s) {
          v[k] = v.back();
          v.pop_back();
          return true;
        }
      }
      return false;
    };
    if (group.empty()) return erase_from(n.subs);
    for (size_t k = 0; k < n.shared.size(); ++k) {
      if (n.shared[k]->name != group) continue;
      bool found = erase_from(n.shared[k]->members);
      if (n.shared[k]->members.empty()) n.shared.erase(n.shared.begin() + static_cast<long>(k));
      return found;
    }
    return false;
  }
  auto level = levels[i];
  std::unique_ptr<Node>* slot = wildcard_slot(n, level);
  Node* child = slot ? slot->get() : n.children.find(level);
  if (!child) return false;
  bool found = remove(*child, levels, i + 1, group, s);
  if (child->empty()) {  // prune branches nobody subscribes under any more
    if (slot) {
      slot->reset();
    } else {
      n.children.erase(level);
    }
  }
  return found;
}

bool SubscriptionTrie::unsubscribe(Session* s, std::string_view filter) {
  std::string_view group, inner = filter;
  mqtt::parse_shared(filter, group, inner);
  std::vector<std::string_view> levels;
  split_levels(inner, levels);
  bool found = remove(*root_, levels, 0, group, s);
  if (found) count_.fetch_sub(1, std::memory_order_relaxed);
  return found;
}

void SubscriptionTrie::collect(const Node& n, const Visit& v) const {
  for (const auto& e : n.subs) v.f(v.ctx, e.session, e.options);
  for (const auto& g : n.shared) {
    const size_t size = g->members.size();
    if (size == 0) continue;
    if (v.g && !v.g(v.gctx, g->name, g->filter)) continue;
    // Round-robin, preferring a member that is connected right now.
    size_t start = g->next.fetch_add(1, std::memory_order_relaxed);
    const Entry* pick = &g->members[start % size];
    for (size_t k = 0; k < size; ++k) {
      const Entry& e = g->members[(start + k) % size];
      if (e.session->online()) {
        pick = &e;
        break;
      }
    }
    v.f(v.ctx, pick->session, pick->options);
  }
}

void SubscriptionTrie::match_from(const Node& n, const std::vector<std::string_view>& levels,
                                  size_t i, const Visit& v) const {
  // "a/#" also matches "a" (the parent level), so '#' is collected before the end test.
  // Topics starting with '$' are not matched by a wildcard at the first level.
  const bool dollar_first = (i == 0 && !levels[0].empty() && levels[0][0] == '$');
  if (n.hash && !dollar_first) collect(*n.hash, v);
  if (i == levels.size()) {
    collect(n, v);
    return;
  }
  if (const Node* child = n.children.find(levels[i])) match_from(*child, levels, i + 1, v);
  if (n.plus && !dollar_first) match_from(*n.plus, levels, i + 1, v);
}

void SubscriptionTrie::match(std::string_view topic, MatchFn f, void* ctx, GroupFn g, void* gctx) const {
  auto& levels = t_levels;
  split_levels(topic, levels);
  match_from(*root_, levels, 0, Visit{f, ctx, g, gctx});
}

}  // namespace sluice::broker
