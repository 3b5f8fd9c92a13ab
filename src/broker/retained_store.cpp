#include "broker/retained_store.hpp"

namespace sluice::broker {

RetainedStore::RetainedStore() : root_(std::make_unique<Node>()) {}
RetainedStore::~RetainedStore() = default;

bool RetainedStore::erase(Node& n, const std::vector<std::string_view>& levels, size_t i) {
  if (i == levels.size()) {
    bool had = n.message != nullptr;
    n.message.reset();
    return had;
  }
  auto it = n.children.find(levels[i]);
  if (it == n.children.end()) return false;
  bool had = erase(*it->second, levels, i + 1);
  if (!it->second->message && it->second->children.empty()) n.children.erase(it);
  return had;
}

void RetainedStore::set(const MessagePtr& m) {
  std::vector<std::string_view> levels;
  split_levels(m->topic, levels);
  std::lock_guard lock(mu_);
  if (m->payload.empty()) {
    if (erase(*root_, levels, 0)) --count_;
    return;
  }
  Node* n = root_.get();
  for (auto level : levels) {
    auto it = n->children.find(level);
    if (it == n->children.end())
      it = n->children.emplace(std::string(level), std::make_unique<Node>()).first;
    n = it->second.get();
  }
  if (!n->message) ++count_;
  n->message = m;
}

void RetainedStore::collect_all(const Node& n, std::vector<MessagePtr>& out, int64_t now,
                                bool skip_dollar) const {
  if (n.message && !n.message->expired(now)) out.push_back(n.message);
  for (const auto& [name, child] : n.children) {
    if (skip_dollar && !name.empty() && name[0] == '$') continue;
    collect_all(*child, out, now, false);
  }
}

void RetainedStore::match_from(const Node& n, const std::vector<std::string_view>& f, size_t i,
                               std::vector<MessagePtr>& out, int64_t now) const {
  if (i == f.size()) {
    if (n.message && !n.message->expired(now)) out.push_back(n.message);
    return;
  }
  const bool first = (i == 0);
  if (f[i] == "#") {
    // '#' matches the parent level too, and never '$' topics from the first level.
    if (!first && n.message && !n.message->expired(now)) out.push_back(n.message);
    for (const auto& [name, child] : n.children) {
      if (first && !name.empty() && name[0] == '$') continue;
      collect_all(*child, out, now, false);
    }
    return;
  }
  if (f[i] == "+") {
    for (const auto& [name, child] : n.children) {
      if (first && !name.empty() && name[0] == '$') continue;
      match_from(*child, f, i + 1, out, now);
    }
    return;
  }
  auto it = n.children.find(f[i]);
  if (it != n.children.end()) match_from(*it->second, f, i + 1, out, now);
}

std::vector<MessagePtr> RetainedStore::match(std::string_view filter, int64_t now_ms) const {
  std::vector<std::string_view> levels;
  split_levels(filter, levels);
  std::vector<MessagePtr> out;
  std::lock_guard lock(mu_);
  match_from(*root_, levels, 0, out, now_ms);
  return out;
}

size_t RetainedStore::size() const {
  std::lock_guard lock(mu_);
  return count_;
}

std::vector<MessagePtr> RetainedStore::all() const {
  std::vector<MessagePtr> out;
  std::lock_guard lock(mu_);
  collect_all(*root_, out, 0, false);
  return out;
}

}  // namespace sluice::broker
