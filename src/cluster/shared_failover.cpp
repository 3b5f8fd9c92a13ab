#include "cluster/shared_failover.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <tuple>

#include "broker/broker.hpp"
#include "broker/dispatch.hpp"
#include "broker/namespace.hpp"
#include "cluster/catch_up.hpp"
#include "cluster/leases.hpp"
#include "common/log.hpp"
#include "mqtt/topic.hpp"

namespace sluice::cluster {

namespace {
constexpr int64_t kPollMs = 100;  // how soon after NodeLeases does this node stop counting a dead node
}  // namespace

bool takes_over(const std::vector<SharedGroups::Member>& then, const std::string& dead, const std::string& self,
                const broker::Message& m) {
  std::vector<const std::string*> nodes;
  nodes.reserve(then.size());
  bool had_dead = false, had_self = false;
  for (const auto& n : then)
    if (n.joined == 0 || n.joined < m.log_seq) {
      nodes.push_back(&n.node);
      had_dead = had_dead || n.node == dead;
      had_self = had_self || n.node == self;
    }
  if (!had_dead || !had_self) return false;
  const uint64_t key = SharedGroups::key_of(m.route_key, m.topic);
  if (SharedGroups::winner(nodes, key) != dead) return false;
  std::erase_if(nodes, [&](const std::string* n) { return *n == dead; });
  return SharedGroups::winner(nodes, key) == self;
}

SharedFailover::SharedFailover(NatsLink& link, NodeLeases& leases, SharedGroups& groups, std::string node)
    : link_(link), leases_(leases), groups_(groups), node_(std::move(node)) {}

SharedFailover::~SharedFailover() { stop(); }

void SharedFailover::start(broker::Broker& broker, broker::Dispatcher& d, std::function<uint64_t()> frontier,
                           uint64_t start_frontier) {
  broker_ = &broker;
  dispatcher_ = &d;
  frontier_ = std::move(frontier);
  start_frontier_ = start_frontier;
  thread_ = std::thread([this] { loop(); });
}

void SharedFailover::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SharedFailover::loop() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    cv_.wait_for(lk, std::chrono::milliseconds(kPollMs), [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) break;
    if (!jobs_.empty()) {
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      lk.unlock();
      recover(std::move(job));
      lk.lock();
      continue;
    }
    lk.unlock();
    poll();
    lk.lock();
  }
}

// The member nodes NodeLeases takes for dead now, against those this node
// stopped counting: each change is made on loop 0, in order.
void SharedFailover::poll() {
  for (const std::string& n : groups_.other_nodes()) {
    const bool dead = !leases_.alive(n);
    if (dead == (gone_.count(n) != 0)) continue;
    if (!dead) {
      gone_.erase(n);
      dispatcher_->run(0, [this, n](broker::WorkerContext&) { groups_.set_gone(n, false); });
      log::info("cluster: node {} is back: counted in shared subscriptions again", n);
      continue;
    }
    gone_.insert(n);
    const std::optional<uint64_t> f = leases_.frontier_of(n);
    dispatcher_->run(0, [this, n, f](broker::WorkerContext&) {
      // Between two routed messages: everything up to `e` was decided with
      // `n` counting, everything after without it.
      Job job{n, f.value_or(0), frontier_(), groups_.orphaned(n)};
      groups_.set_gone(n, true);
      stats_.deaths.fetch_add(1, std::memory_order_relaxed);
      if (job.groups.empty()) return;
      if (!f) {
        stats_.unknown.fetch_add(1, std::memory_order_relaxed);
        log::warn("cluster: node {} died without a frontier heard here: its share of shared subscriptions "
                  "up to {} is not recovered",
                  n, job.upto);
        return;
      }
      {
        std::lock_guard lk(mu_);
        jobs_.push_back(std::move(job));
      }
      cv_.notify_all();
    });
  }
}

void SharedFailover::recover(Job job) {
  const uint64_t lo = std::max(job.from, start_frontier_);
  std::vector<std::tuple<std::string, broker::MessagePtr, size_t>> out;  // (ns, message, group index)
  std::map<std::string, std::vector<size_t>> by_ns;
  for (size_t i = 0; i < job.groups.size(); ++i) by_ns[job.groups[i].ns].push_back(i);
  for (const auto& [ns, idx] : by_ns) {
    auto copies = read_log(link_, ns, lo, job.upto, "node " + job.dead + "'s share");
    for (auto& c : copies) {
      if (c.message->qos == 0) continue;
      c.message->origin = c.node == node_ ? c.origin : 0;  // No Local, as when routed live
      broker::MessagePtr m = std::move(c.message);
      for (size_t i : idx) {
        const auto& g = job.groups[i];
        if (mqtt::topic_matches(g.filter, m->topic) && takes_over(g.members, job.dead, node_, *m))
          out.emplace_back(ns, m, i);
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return std::get<1>(a)->log_seq < std::get<1>(b)->log_seq; });
  log::info("cluster: node {} died: {} message(s) of its share of {} shared group(s) in ({}, {}] go to members "
            "on node {}",
            job.dead, out.size(), job.groups.size(), lo, job.upto, node_);
  if (out.empty()) return;
  dispatcher_->run(0, [this, job = std::move(job), out = std::move(out)](broker::WorkerContext& ctx) {
    for (const auto& [ns_id, m, i] : out) {
      auto ns = broker_->find(ns_id);
      if (!ns) continue;
      const auto& g = job.groups[i];
      if (ns->deliver_to_group(m, g.group, g.filter, ctx))
        stats_.recovered.fetch_add(1, std::memory_order_relaxed);
    }
  });
}

}  // namespace sluice::cluster
