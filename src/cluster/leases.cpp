#include "cluster/leases.hpp"

#include <algorithm>

#include "cluster/nats_link.hpp"
#include "cluster/subjects.hpp"

namespace sluice::cluster {

NodeLeases::NodeLeases(NatsLink& link, std::string node)
    : link_(link), node_(std::move(node)), started_(Clock::now()) {}

NodeLeases::~NodeLeases() { stop(); }

void NodeLeases::start() {
  started_ = Clock::now();
  sub_ = link_.subscribe("sln.*", "", [this](NatsMessage&& m) {
    std::unique_lock lk(mu_);
    seen_[m.data] = Clock::now();
  });
  beat_ = std::thread([this] {
    const std::string subject = "sln." + escape_token(node_);
    std::unique_lock lk(beat_mu_);
    while (!stopping_) {
      link_.publish(subject, node_);
      beat_cv_.wait_for(lk, std::chrono::milliseconds(kBeatMs));
    }
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

bool NodeLeases::alive(const std::string& node) const {
  if (node == node_) return true;
  const auto now = Clock::now();
  if (now - started_ < std::chrono::milliseconds(kExpireMs)) return true;
  std::shared_lock lk(mu_);
  auto it = seen_.find(node);
  return it != seen_.end() && now - it->second < std::chrono::milliseconds(kExpireMs);
}

std::vector<std::string> NodeLeases::live_nodes() const {
  const auto now = Clock::now();
  std::vector<std::string> out;
  std::shared_lock lk(mu_);
  for (const auto& [n, t] : seen_)
    if (n == node_ || now - t < std::chrono::milliseconds(kExpireMs)) out.push_back(n);
  lk.unlock();
  if (std::find(out.begin(), out.end(), node_) == out.end())
    out.insert(std::lower_bound(out.begin(), out.end(), node_), node_);
  return out;
}

}  // namespace sluice::cluster
