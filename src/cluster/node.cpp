#include "cluster/node.hpp"

#include <chrono>
#include <thread>

#include "cluster/bus.hpp"
#include "cluster/directory.hpp"
#include "cluster/leases.hpp"
#include "cluster/shared_failover.hpp"
#include "cluster/shared_groups.hpp"
#include "cluster/wills.hpp"
#include "cluster/durability.hpp"
#include "cluster/nats_link.hpp"
#include "cluster/peer_calls.hpp"
#include "cluster/pg_leases.hpp"
#include "cluster/retained.hpp"
#include "cluster/sessions.hpp"
#include "common/log.hpp"

namespace sluice::cluster {

ClusterNode::ClusterNode(ClusterOptions opts) : opts_(std::move(opts)) {
  if (opts_.node_name.empty()) throw std::runtime_error("cluster: --node-name is required with --nats");
  NatsOptions no;
  no.urls = opts_.nats;
  no.name = "sluice-" + opts_.node_name;
  no.replicas = opts_.replicas;
  link_ = std::make_unique<NatsLink>(no);
  link_->ensure_stream(ClusterBus::kStream, {"sl1.>"}, opts_.message_max_age_s * 1000, opts_.message_max_bytes);
  link_->ensure_kv(ClusterDurability::kRetainedBucket);
  link_->ensure_kv(SharedGroups::kBucket);
  link_->ensure_kv(ClusterWills::kBucket);
  link_->ensure_kv(ClusterSessions::kBucket);
  // Claims matter only while they are news: kept 10 minutes, and at most 1,000
  // per client id (a limit of 1 would drop a claim before the nodes read it
  // when several connects of one client id race).
  link_->ensure_stream(ClusterDirectory::kStream, {ClusterDirectory::kSubjects}, 600LL * 1000, 0, 1000);
  wait_out_earlier_process();
  durability_ = std::make_unique<ClusterDurability>(*link_);
  leases_ = std::make_unique<NodeLeases>(*link_, opts_.node_name);
  if (!opts_.postgres.empty()) {
    pg_leases_ = std::make_unique<PgLeases>(opts_.postgres, opts_.node_name, opts_.cut_off_ms);
    leases_->set_pg(pg_leases_.get());
    pg_leases_->start();  // renewed from now on: the rest of the start-up may take longer than the lease
  }
  peers_ = std::make_unique<PeerCalls>(*link_, *leases_, opts_.node_name);
  shared_ = std::make_unique<SharedGroups>(*link_, opts_.node_name);
  failover_ = std::make_unique<SharedFailover>(*link_, *leases_, *shared_, opts_.node_name);
  bus_ = std::make_shared<ClusterBus>(*link_, *durability_, *shared_, opts_.node_name);
  retained_ = std::make_unique<RetainedMirror>();
  directory_ = std::make_shared<ClusterDirectory>(*link_, opts_.node_name);
  wills_ = std::make_unique<ClusterWills>(*link_, *leases_, *directory_, opts_.node_name);
  durability_->set_wills(wills_.get());
  sessions_ = std::make_unique<ClusterSessions>(*link_, *leases_, opts_.node_name);
  durability_->set_sessions(sessions_.get());
  bus_->set_sessions(sessions_.get());
  directory_->set_sessions(sessions_.get());
  // A dead node that parks an offline member goes on counting in its groups,
  // and a member's announcement says from where in the log it counts.
  ClusterSessions* sessions = sessions_.get();
  shared_->set_parks([sessions](const std::string& d, const std::string& n) { return sessions->parks(d, n); });
  shared_->set_frontier([sessions] { return sessions->frontier(); });
  // The beat says it too: a survivor re-decides this node's share after it (SharedFailover).
  leases_->set_frontier([sessions] { return sessions->frontier(); });
  sessions_->set_shared(shared_.get());
  log::info("cluster: node {} joined NATS at {} (stream {}, {} replica(s))", opts_.node_name,
            opts_.nats.empty() ? std::string() : opts_.nats.front(), ClusterBus::kStream, opts_.replicas);
}

ClusterNode::~ClusterNode() { stop(); }

// A process under this name killed a moment ago, with members of shared
// groups here, is still alive to the others until its lease runs out; were
// this one to beat and take its group entries back now, they would never take
// it for dead and never re-decide what it won and had not delivered
// (docs/cluster.md, "A restart under the same name"). So it waits the lease
// out first, before it beats, serves or touches the cluster's state.
void ClusterNode::wait_out_earlier_process() {
  if (!SharedGroups::lists(*link_, opts_.node_name)) return;
  const int64_t wait_ms = NodeLeases::kExpireMs + kDeathNoticeMs;
  log::warn("cluster: an earlier process of node {} was a member of shared subscriptions: waiting {} ms, until the "
            "other nodes have taken it for dead and taken over its share",
            opts_.node_name, wait_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
}

broker::ClusterSeams ClusterNode::seams() {
  broker::ClusterSeams s = broker::ClusterSeams::single_node();
  s.bus = bus_;
  s.directory = directory_;
  RetainedMirror* mirror = retained_.get();
  s.retained = [mirror](std::string_view ns) { return mirror->make(ns); };
  return s;
}

broker::Persistence& ClusterNode::durability() { return *durability_; }

void ClusterNode::set_access(broker::AccessControl& access) { wills_->set_access(&access); }

void ClusterNode::start(broker::Broker& broker, broker::Dispatcher& d, std::function<void(uint64_t)> on_durable) {
  durability_->set_on_durable(std::move(on_durable));
  leases_->start(&broker);
  shared_->start();
  retained_->start(*link_);
  directory_->start(broker, d);
  wills_->start(broker, d);
  // The log's end before the bus follows it: where new sessions' positions start.
  const uint64_t log_start = link_->js_last_seq(ClusterBus::kStream).value_or(0);
  sessions_->start(broker, d, log_start);
  ClusterSessions* sessions = sessions_.get();
  failover_->start(broker, d, [sessions] { return sessions->frontier(); }, log_start);
  bus_->start(broker, d);
  // Serves while NATS was lost less than cut_off_ms ago and (with --postgres)
  // the lease was renewed within cut_off_ms. Having stopped, it serves again
  // once NATS is back and the lease is taken again, with a new epoch.
  watchdog_ = std::thread([this] {
    using Clock = std::chrono::steady_clock;
    bool serving = true;
    Clock::time_point lost{};
    uint64_t losses_seen = pg_leases_ ? pg_leases_->losses() : 0;  // lease losses this loop has acted on
    std::unique_lock lk(watch_mu_);
    while (!stopping_) {
      watch_cv_.wait_for(lk, std::chrono::milliseconds(250));
      const bool up = link_->connected();
      if (up) lost = {};
      else if (lost == Clock::time_point{}) lost = Clock::now();
      const bool nats_ok = up || Clock::now() - lost < std::chrono::milliseconds(opts_.cut_off_ms);
      const uint64_t losses = pg_leases_ ? pg_leases_->losses() : 0;
      const bool pg_ok = !pg_leases_ || (pg_leases_->held() && losses == losses_seen);
      const bool should = nats_ok && pg_ok;
      if (!should) losses_seen = losses;
      if (should == serving) continue;
      serving = should;
      serving_.store(serving, std::memory_order_relaxed);
      if (serving) {
        if (pg_leases_)
          log::warn("cluster: NATS and PostgreSQL are back: node {} serves again (lease epoch {})", opts_.node_name,
                    pg_leases_->epoch());
        else
          log::warn("cluster: NATS is back: node {} serves again", opts_.node_name);
      } else {
        if (pg_leases_) pg_leases_->rejoin();  // the next lease is a new epoch
        log::error("cluster: node {} cut off from {} for {} ms: closing its clients (0x88) until it is back",
                   opts_.node_name, !nats_ok && !pg_ok ? "NATS and PostgreSQL" : !nats_ok ? "NATS" : "PostgreSQL",
                   opts_.cut_off_ms);
      }
      if (on_serving_) on_serving_(serving);
    }
  });
}

void ClusterNode::stop() {
  {
    std::lock_guard lk(watch_mu_);
    stopping_ = true;
  }
  watch_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  if (peers_) peers_->stop();
  if (bus_) bus_->stop();
  if (failover_) failover_->stop();
  if (sessions_) sessions_->stop();
  if (wills_) wills_->stop();
  if (directory_) directory_->stop();
  if (shared_) shared_->stop();
  if (leases_) leases_->stop();
  if (pg_leases_) pg_leases_->stop();
  if (retained_) retained_->stop();
}

bool ClusterNode::connected() const { return link_->connected(); }

const BusStats& ClusterNode::stats() const { return bus_->stats(); }

const DirectoryStats& ClusterNode::directory_stats() const { return directory_->stats(); }

const WillStats& ClusterNode::will_stats() const { return wills_->stats(); }

const SessionStats& ClusterNode::session_stats() const { return sessions_->stats(); }

const FailoverStats& ClusterNode::failover_stats() const { return failover_->stats(); }

PeerCalls& ClusterNode::peers() { return *peers_; }

}  // namespace sluice::cluster
