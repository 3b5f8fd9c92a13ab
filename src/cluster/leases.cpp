#include "cluster/leases.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "broker/broker.hpp"
#include "broker/persistence.hpp"  // wall_ms
#include "broker/namespace.hpp"
#include "cluster/nats_link.hpp"
#include "cluster/pg_leases.hpp"
#include "cluster/subjects.hpp"

namespace sluice::cluster {

NodeLeases::NodeLeases(NatsLink& link, std::string node)
    : link_(link), node_(std::move(node)), started_(Clock::now()) {}

NodeLeases::~NodeLeases() { stop(); }

void NodeLeases::start(broker::Broker* broker) {
  broker_ = broker;
  started_ = Clock::now();
  sub_ = link_.subscribe("sln.*", "", [this](NatsMessage&& m) { on_beat(m.data); });
  beat_ = std::thread([this] {
    const std::string subject = "sln." + escape_token(node_);
    std::unique_lock lk(beat_mu_);
    // The frontier a beat carries is sampled kFrontierLagMs before it goes
    // out: what was routed by then has had time to reach the clients, so a
    // survivor re-deciding the node's share after it misses nothing the node
    // routed and its clients did not get (at the cost of duplicates). The
    // beats keep their rhythm (one at the start, then every kBeatMs): the
    // survivors' timing of a death (wills, sessions) is unchanged.
    uint64_t f = frontier_ ? frontier_() : 0;
    while (!stopping_) {
      const std::string b = beat(f);
      link_.publish(subject, b);
      on_beat(b);  // NATS does not echo a connection's own messages: this node's figures too
      apply_counts();
      beat_cv_.wait_for(lk, std::chrono::milliseconds(kBeatMs - kFrontierLagMs));
      if (stopping_) break;
      f = frontier_ ? frontier_() : 0;
      beat_cv_.wait_for(lk, std::chrono::milliseconds(kFrontierLagMs));
    }
  });
}

// "<node>\n" then "<namespace>\t<connections>\t<publishes last second>\n"
// for each namespace with either, and "F\t<frontier>\n" (one tab: an older
// node, which reads lines with two, skips it).
std::string NodeLeases::beat(uint64_t frontier) const {
  std::string out = node_ + "\n";
  if (frontier_) out += "F\t" + std::to_string(frontier) + "\n";
  const int64_t now_s = broker::wall_ms() / 1000;
  if (broker_)
    broker_->for_each([&out, now_s](broker::Namespace& ns) {
      const int64_t n = ns.online_count();
      const uint32_t p = ns.publish_rate().last_second(now_s);
      if (n > 0 || p > 0) out += ns.id() + "\t" + std::to_string(n) + "\t" + std::to_string(p) + "\n";
    });
  return out;
}

void NodeLeases::on_beat(const std::string& data) {
  size_t nl = data.find('\n');
  const std::string node = data.substr(0, nl);
  std::map<std::string, Counts> counts;
  std::optional<uint64_t> frontier;
  while (nl != std::string::npos && nl + 1 < data.size()) {
    const size_t start = nl + 1;
    nl = data.find('\n', start);
    const std::string line = data.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    const size_t tab2 = line.rfind('\t');
    if (tab2 == 1 && line[0] == 'F') {
      frontier = std::strtoull(line.c_str() + 2, nullptr, 10);
      continue;
    }
    const size_t tab = tab2 == std::string::npos || tab2 == 0 ? std::string::npos : line.rfind('\t', tab2 - 1);
    if (tab != std::string::npos)
      counts[line.substr(0, tab)] = Counts{std::strtoll(line.c_str() + tab + 1, nullptr, 10),
                                           std::strtoll(line.c_str() + tab2 + 1, nullptr, 10)};
  }
  std::unique_lock lk(mu_);
  seen_[node] = Clock::now();
  counts_[node] = std::move(counts);
  if (frontier) frontiers_[node] = *frontier;
}

std::optional<uint64_t> NodeLeases::frontier_of(const std::string& node) const {
  std::shared_lock lk(mu_);
  auto it = frontiers_.find(node);
  if (it == frontiers_.end()) return std::nullopt;
  return it->second;
}

// Each namespace learns how many connections the other live nodes hold, how
// many publishes they saw in their last second, and how many they are.
void NodeLeases::apply_counts() {
  if (!broker_) return;
  std::map<std::string, Counts, std::less<>> sums;
  uint32_t others = 0;
  {
    const auto now = Clock::now();
    std::shared_lock lk(mu_);
    for (const auto& [node, counts] : counts_)
      if (node != node_ && live_locked(node, now)) {
        ++others;
        for (const auto& [ns, c] : counts) {
          sums[ns].connections += c.connections;
          sums[ns].publishes += c.publishes;
        }
      }
  }
  broker_->for_each([&sums, others](broker::Namespace& ns) {
    auto it = sums.find(ns.id());
    const Counts c = it == sums.end() ? Counts{} : it->second;
    ns.set_remote_connections(c.connections);
    auto& r = ns.publish_rate();
    r.remote.store(static_cast<uint32_t>(std::min<int64_t>(c.publishes, UINT32_MAX)), std::memory_order_relaxed);
    r.remote_nodes.store(others, std::memory_order_relaxed);
  });
}

void NodeLeases::stop() {
  {
    std::lock_guard lk(beat_mu_);
    stopping_ = true;
  }
  beat_cv_.notify_all();
  if (beat_.joinable()) beat_.join();
  if (sub_) link_.unsubscribe(sub_);
  sub_ = 0;
}

bool NodeLeases::live_locked(const std::string& node, Clock::time_point now) const {
  return heard_locked(node, now) && !(pg_ && pg_->expired(node));
}

bool NodeLeases::heard_locked(const std::string& node, Clock::time_point now) const {
  auto it = seen_.find(node);
  return it != seen_.end() && now - it->second < std::chrono::milliseconds(kExpireMs);
}

bool NodeLeases::alive(const std::string& node) const {
  if (node == node_) return true;
  if (pg_ && pg_->expired(node)) return false;
  const auto now = Clock::now();
  if (now - started_ < std::chrono::milliseconds(kExpireMs)) return true;
  std::shared_lock lk(mu_);
  return heard_locked(node, now);
}

std::vector<std::string> NodeLeases::others_alive() const {
  std::vector<std::string> out;
  const auto now = Clock::now();
  std::shared_lock lk(mu_);
  for (const auto& [node, at] : seen_)
    if (node != node_ && live_locked(node, now)) out.push_back(node);
  return out;
}

std::vector<NodeLeases::NodeFigures> NodeLeases::figures(std::string_view ns) const {
  std::vector<NodeFigures> out;
  const auto now = Clock::now();
  std::shared_lock lk(mu_);
  for (const auto& [node, at] : seen_) {
    const int64_t ago = std::chrono::duration_cast<std::chrono::milliseconds>(now - at).count();
    if (ago >= kForgetMs) continue;
    NodeFigures f{node, node == node_ || live_locked(node, now), ago};
    if (auto c = counts_.find(node); c != counts_.end())
      if (auto it = c->second.find(std::string(ns)); it != c->second.end()) {
        f.connections = it->second.connections;
        f.publishes_last_second = it->second.publishes;
      }
    out.push_back(std::move(f));
  }
  return out;  // seen_ is a map: name order
}

}  // namespace sluice::cluster
