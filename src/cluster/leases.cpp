#include "cluster/leases.hpp"

#include <cstdlib>

#include "broker/broker.hpp"
#include "broker/namespace.hpp"
#include "cluster/nats_link.hpp"
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
    while (!stopping_) {
      link_.publish(subject, beat());
      apply_counts();
      beat_cv_.wait_for(lk, std::chrono::milliseconds(kBeatMs));
    }
  });
}

// "<node>\n" then "<namespace>\t<connections>\n" for each namespace with any.
std::string NodeLeases::beat() const {
  std::string out = node_ + "\n";
  if (broker_)
    broker_->for_each([&out](broker::Namespace& ns) {
      if (const int64_t n = ns.online_count(); n > 0) out += ns.id() + "\t" + std::to_string(n) + "\n";
    });
  return out;
}

void NodeLeases::on_beat(const std::string& data) {
  size_t nl = data.find('\n');
  const std::string node = data.substr(0, nl);
  std::map<std::string, int64_t> counts;
  while (nl != std::string::npos && nl + 1 < data.size()) {
    const size_t start = nl + 1;
    nl = data.find('\n', start);
    const std::string line = data.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    const size_t tab = line.rfind('\t');
    if (tab != std::string::npos) counts[line.substr(0, tab)] = std::strtoll(line.c_str() + tab + 1, nullptr, 10);
  }
  std::unique_lock lk(mu_);
  seen_[node] = Clock::now();
  counts_[node] = std::move(counts);
}

// Each namespace learns how many connections the other live nodes hold.
void NodeLeases::apply_counts() {
  if (!broker_) return;
  std::map<std::string, int64_t, std::less<>> sums;
  {
    const auto now = Clock::now();
    std::shared_lock lk(mu_);
    for (const auto& [node, counts] : counts_)
      if (node != node_ && heard_locked(node, now))
        for (const auto& [ns, n] : counts) sums[ns] += n;
  }
  broker_->for_each([&sums](broker::Namespace& ns) {
    auto it = sums.find(ns.id());
    ns.set_remote_connections(it == sums.end() ? 0 : it->second);
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

bool NodeLeases::heard_locked(const std::string& node, Clock::time_point now) const {
  auto it = seen_.find(node);
  return it != seen_.end() && now - it->second < std::chrono::milliseconds(kExpireMs);
}

bool NodeLeases::alive(const std::string& node) const {
  if (node == node_) return true;
  const auto now = Clock::now();
  if (now - started_ < std::chrono::milliseconds(kExpireMs)) return true;
  std::shared_lock lk(mu_);
  return heard_locked(node, now);
}

}  // namespace sluice::cluster
