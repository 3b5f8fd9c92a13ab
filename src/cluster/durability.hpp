#pragma once
// What "durable" means for a node of a cluster: in the cluster's engines, not
// on this node's disk (docs/cluster.md). It takes the place of the single
// node's broker.db as the broker's Persistence: tickets are handed out for
// the writes the publisher's acknowledgement must wait for — a QoS 1/2 message
// stored in JetStream, a retained message written to its bucket — and become
// durable when the engine confirms them, in any order; durable() is the
// highest ticket up to which all are confirmed. Records the single node keeps
// on disk for a restart (session rows, queued copies) are not kept here: the
// message log holds the messages, and ClusterSessions (which gets the session
// records) each persistent session's subscriptions and position in it.
//
// A write the engine refuses (NATS reconnecting) is retried until it succeeds:
// its publisher's acknowledgement waits, and if the node stops serving
// meanwhile the publisher never gets it and sends again, as QoS 1 expects.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "broker/persistence.hpp"

namespace sluice::cluster {

class NatsLink;
class ClusterWills;
class ClusterSessions;

class ClusterDurability final : public broker::Persistence {
 public:
  // `on_durable(ticket)`: the frontier moved (net::Server::durable).
  explicit ClusterDurability(NatsLink& link);
  ~ClusterDurability() override;

  void set_on_durable(std::function<void(uint64_t)> f);
  // Where the wills of open connections go (WillArmed / WillDisarmed records).
  void set_wills(ClusterWills* w) { wills_ = w; }
  // Where persistent sessions' records go (their position in the log).
  void set_sessions(ClusterSessions* s) { sessions_ = s; }

  // A new ticket for a write that `run` starts; `run(done)` must call
  // done(true) once the write is durable, or done(false) to have it run again
  // (after a short pause).
  using Write = std::function<void(std::function<void(bool)> done)>;
  uint64_t track(Write run);

  // broker::Persistence
  uint64_t submit(broker::PersistRecord&& r) override;
  uint64_t new_session_key() override { return next_key_.fetch_add(1) + 1; }
  bool acks_wait() const override { return true; }
  uint64_t durable() const override { return frontier_.load(std::memory_order_acquire); }
  // A survivor re-checks a dead node's wills against their clients' rights.
  bool wants_will_identity() const override { return true; }
  bool keeps_qos1_ids() const override { return true; }  // a moving session resends under them

  // The retained-message bucket's name.
  static constexpr const char* kRetainedBucket = "SLUICE_RETAINED";
  // "<ns>.<escaped levels>": a topic's key in the bucket.
  static std::string retained_key(std::string_view ns, std::string_view topic);

 private:
  void complete(uint64_t ticket);
  void retry_later(uint64_t ticket, Write run);

  NatsLink& link_;
  ClusterWills* wills_ = nullptr;
  ClusterSessions* sessions_ = nullptr;
  std::atomic<uint64_t> next_ticket_{0};
  std::atomic<uint64_t> next_key_{0};
  std::atomic<uint64_t> frontier_{0};
  std::mutex mu_;
  std::set<uint64_t> done_;  // confirmed above the frontier
  std::function<void(uint64_t)> on_durable_;

  // Writes that failed, run again by one thread after a pause.
  std::mutex retry_mu_;
  std::condition_variable retry_cv_;
  std::deque<std::pair<uint64_t, Write>> retries_;
  bool stopping_ = false;
  std::thread retry_thread_;
};

}  // namespace sluice::cluster
