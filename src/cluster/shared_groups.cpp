#include "cluster/shared_groups.hpp"

#include <charconv>
#include <functional>
#include <vector>

#include "cluster/nats_link.hpp"
#include "cluster/subjects.hpp"

namespace sluice::cluster {

SharedGroups::SharedGroups(NatsLink& link, std::string node) : link_(link), node_(std::move(node)) {}

SharedGroups::~SharedGroups() { stop(); }

void SharedGroups::start() {
  watch_ = link_.kv_watch(kBucket, [this](NatsMessage&& e) { on_entry(std::move(e)); });
}

void SharedGroups::stop() {
  if (watch_) link_.unwatch(watch_);
  watch_ = 0;
}

// Two FNV-1a hashes (different offsets) of ns, group and filter: the same
// name for the group on every node, cheap enough to take per message.
std::string SharedGroups::digest(std::string_view ns, std::string_view group, std::string_view filter) {
  uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
  auto feed = [&](std::string_view part) {
    for (unsigned char c : part) {
      a = (a ^ c) * 0x100000001b3ull;
      b = (b ^ c) * 0x100000001b3ull;
    }
    a = (a ^ 0xff) * 0x100000001b3ull;  // a separator no UTF-8 text contains
    b = (b ^ 0xff) * 0x100000001b3ull;
  };
  feed(ns);
  feed(group);
  feed(filter);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[i] = kHex[(a >> (60 - 4 * i)) & 15];
    out[16 + i] = kHex[(b >> (60 - 4 * i)) & 15];
  }
  return out;
}

// Asynchronous, in this node's order: interest changes never wait for NATS.
// The value is "<node> <log sequence routed here when it joined>" (an older
// node wrote the name alone; the key names the node either way).
void SharedGroups::announce(const std::string& d, bool present, uint64_t joined) {
  const std::string value = present ? node_ + " " + std::to_string(joined) : std::string();
  link_.kv_write_async(kBucket, d + "." + escape_token(node_), value);
}

void SharedGroups::added(std::string_view ns, std::string_view group, std::string_view filter) {
  const std::string d = digest(ns, group, filter);
  {
    std::lock_guard lk(local_mu_);
    if (local_[d]++ != 0) return;
    names_[d] = Name{std::string(ns), std::string(group), std::string(filter)};
  }
  const uint64_t joined = frontier_ ? frontier_() : 0;
  {
    std::unique_lock lk(view_mu_);
    view_[d][node_] = joined;
  }
  announce(d, true, joined);
}

void SharedGroups::removed(std::string_view ns, std::string_view group, std::string_view filter) {
  const std::string d = digest(ns, group, filter);
  {
    std::lock_guard lk(local_mu_);
    auto it = local_.find(d);
    if (it == local_.end() || --it->second != 0) return;
    local_.erase(it);
    names_.erase(d);
  }
  {
    std::unique_lock lk(view_mu_);
    if (auto it = view_.find(d); it != view_.end()) {
      it->second.erase(node_);
      if (it->second.empty()) view_.erase(it);
    }
  }
  announce(d, false, 0);
}

bool SharedGroups::lists(NatsLink& link, const std::string& node) {
  const std::string suffix = "." + escape_token(node);
  for (const auto& key : link.kv_keys(kBucket))
    if (key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
  return false;
}

void SharedGroups::on_entry(NatsMessage&& e) {
  const size_t dot = e.subject.find('.');
  if (dot == std::string::npos) return;
  const std::string d = e.subject.substr(0, dot);
  auto node = unescape_token(std::string_view(e.subject).substr(dot + 1));
  if (!node) return;
  const bool present = e.headers["op"] != "del";
  if (*node == node_) {
    // This node's own entry: one left over from before a restart, or a put
    // whose member has left since, is taken back.
    bool mine;
    {
      std::lock_guard lk(local_mu_);
      mine = local_.count(d) != 0;
    }
    if (present && !mine) announce(d, false, 0);
    return;
  }
  uint64_t joined = 0;
  if (const size_t sp = e.data.rfind(' '); present && sp != std::string::npos)
    std::from_chars(e.data.data() + sp + 1, e.data.data() + e.data.size(), joined);
  std::unique_lock lk(view_mu_);
  if (present) {
    view_[d][*node] = joined;
  } else if (auto it = view_.find(d); it != view_.end()) {
    it->second.erase(*node);
    if (it->second.empty()) view_.erase(it);
  }
}

// Taken for dead only through set_gone (on loop 0), not by asking NodeLeases
// here: the moment a node stops counting is then a point in the log's order,
// which SharedFailover re-decides the node's share up to.
bool SharedGroups::counts_locked(const std::string& d, const std::string& node) const {
  return node == node_ || !gone_.count(node) || (parks_ && parks_(d, node));
}

std::vector<std::string> SharedGroups::other_nodes() const {
  std::set<std::string> nodes;
  {
    std::shared_lock lk(view_mu_);
    for (const auto& [d, members] : view_)
      for (const auto& [n, joined] : members)
        if (n != node_) nodes.insert(n);
    for (const auto& n : gone_) nodes.insert(n);  // to learn that it came back
  }
  return {nodes.begin(), nodes.end()};
}

std::vector<SharedGroups::Orphaned> SharedGroups::orphaned(const std::string& node) const {
  std::vector<Orphaned> out;
  std::lock_guard lk(local_mu_);
  std::shared_lock vk(view_mu_);
  for (const auto& [d, name] : names_) {
    auto it = view_.find(d);
    if (it == view_.end() || !it->second.count(node) || !it->second.count(node_)) continue;
    if (parks_ && parks_(d, node)) continue;
    Orphaned o{name.ns, name.group, name.filter, {}};
    for (const auto& [n, joined] : it->second)
      if (counts_locked(d, n)) o.members.push_back(Member{n, joined});
    out.push_back(std::move(o));
  }
  return out;
}

void SharedGroups::set_gone(const std::string& node, bool gone) {
  std::unique_lock lk(view_mu_);
  if (gone) gone_.insert(node);
  else gone_.erase(node);
}

uint64_t SharedGroups::key_of(uint64_t route_key, std::string_view topic) {
  return route_key ? route_key : std::hash<std::string_view>{}(topic) * 0x9E3779B97F4A7C15ull;
}

// Rendezvous (highest random weight) hashing: each node's score for the key,
// the highest wins. Removing a node other than the winner never changes the
// winner, which a modulo over the member count does for most keys.
const std::string& SharedGroups::winner(const std::vector<const std::string*>& nodes, uint64_t key) {
  const std::string* best = nodes.front();
  uint64_t best_score = 0;
  bool first = true;
  for (const std::string* n : nodes) {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a of the name
    for (unsigned char c : *n) h = (h ^ c) * 0x100000001b3ull;
    uint64_t x = h ^ key;  // splitmix64's finaliser
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    if (first || x > best_score || (x == best_score && *n < *best)) {
      best = n;
      best_score = x;
      first = false;
    }
  }
  return *best;
}

bool SharedGroups::serves(std::string_view ns, std::string_view group, std::string_view filter,
                          uint64_t route_key, std::string_view topic) const {
  const std::string d = digest(ns, group, filter);
  std::vector<const std::string*> members;
  std::shared_lock lk(view_mu_);
  auto it = view_.find(d);
  if (it == view_.end()) return true;  // only here, as far as this node knows
  members.reserve(it->second.size());
  bool self = false;
  for (const auto& [n, joined] : it->second) {
    if (n == node_) self = true;
    if (counts_locked(d, n)) members.push_back(&n);
  }
  if (!self) return true;  // not announced yet: the view is being built
  if (members.size() <= 1) return true;
  return winner(members, key_of(route_key, topic)) == node_;
}

std::vector<SharedGroups::Member> SharedGroups::members(std::string_view ns, std::string_view group,
                                                        std::string_view filter) const {
  const std::string d = digest(ns, group, filter);
  std::vector<Member> out;
  std::shared_lock lk(view_mu_);
  if (auto it = view_.find(d); it != view_.end())
    for (const auto& [n, joined] : it->second)
      if (counts_locked(d, n)) out.push_back(Member{n, joined});
  return out;
}

}  // namespace sluice::cluster
