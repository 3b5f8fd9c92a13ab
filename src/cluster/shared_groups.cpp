#include "cluster/shared_groups.hpp"

#include <functional>
#include <vector>

#include "cluster/leases.hpp"
#include "cluster/nats_link.hpp"
#include "cluster/subjects.hpp"

namespace sluice::cluster {

SharedGroups::SharedGroups(NatsLink& link, NodeLeases& leases, std::string node)
    : link_(link), leases_(leases), node_(std::move(node)) {}

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
void SharedGroups::announce(const std::string& d, bool present) {
  link_.kv_write_async(kBucket, d + "." + escape_token(node_), present ? std::string_view(node_) : std::string_view());
}

void SharedGroups::added(std::string_view ns, std::string_view group, std::string_view filter) {
  const std::string d = digest(ns, group, filter);
  {
    std::lock_guard lk(local_mu_);
    if (local_[d]++ != 0) return;
  }
  {
    std::unique_lock lk(view_mu_);
    view_[d].insert(node_);
  }
  announce(d, true);
}

void SharedGroups::removed(std::string_view ns, std::string_view group, std::string_view filter) {
  const std::string d = digest(ns, group, filter);
  {
    std::lock_guard lk(local_mu_);
    auto it = local_.find(d);
    if (it == local_.end() || --it->second != 0) return;
    local_.erase(it);
  }
  {
    std::unique_lock lk(view_mu_);
    if (auto it = view_.find(d); it != view_.end()) {
      it->second.erase(node_);
      if (it->second.empty()) view_.erase(it);
    }
  }
  announce(d, false);
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
    if (present && !mine) announce(d, false);
    return;
  }
  std::unique_lock lk(view_mu_);
  if (present) {
    view_[d].insert(*node);
  } else if (auto it = view_.find(d); it != view_.end()) {
    it->second.erase(*node);
    if (it->second.empty()) view_.erase(it);
  }
}

bool SharedGroups::serves(std::string_view ns, std::string_view group, std::string_view filter,
                          uint64_t route_key, std::string_view topic) const {
  const std::string d = digest(ns, group, filter);
  std::vector<const std::string*> members;
  {
    std::shared_lock lk(view_mu_);
    auto it = view_.find(d);
    if (it == view_.end()) return true;  // only here, as far as this node knows
    members.reserve(it->second.size() + 1);
    bool self = false;
    for (const auto& n : it->second) {
      if (n == node_) self = true;
      if (n == node_ || leases_.alive(n)) members.push_back(&n);
    }
    if (!self) return true;  // not announced yet: the view is being built
    if (members.size() <= 1) return true;
    const uint64_t key = route_key ? route_key : std::hash<std::string_view>{}(topic) * 0x9E3779B97F4A7C15ull;
    return *members[(key >> 32) % members.size()] == node_;
  }
}

}  // namespace sluice::cluster
