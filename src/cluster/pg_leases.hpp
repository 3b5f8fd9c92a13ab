#pragma once
// The node's lease in PostgreSQL (docs/cluster.md, "Node liveness and the
// split brain"), when the node runs with --postgres: a row of cluster_nodes
// (node, epoch, joined_at, renewed_at, expires_at) that a thread of its own
// renews every kRenewMs for kLeaseMs, on PostgreSQL's clock (now()), over a
// connection whose every step has a deadline (PgLink): a refused, lost or hung
// PostgreSQL costs at most kTimeoutMs per attempt, never a stuck thread.
//
// - held(): renewed within hold_ms (3 s) since the lease was last taken. The
//   node's watchdog stops serving when it is not (as when NATS is lost), and
//   then calls rejoin(): the next renewal takes the lease anew with the next
//   epoch (an INSERT ... ON CONFLICT that adds one), so every period of
//   service has an epoch of its own.
// - A renewal counts from when it was sent and the lease runs 5 s from
//   PostgreSQL's now(), so a node stops serving (3 s and a watchdog tick)
//   before its lease runs out for the others.
// - A renewal only extends a lease that has not run out and is still this
//   epoch's; else the lease is lost (ran out while the node was frozen, or
//   another process took the node's name) and held() is false at once.
// - Each renewal also reads every other node's row: expired(node) says which
//   leases had run out at that read, on PostgreSQL's clock. NodeLeases takes
//   such a node for dead whatever its NATS heartbeat says (shared
//   subscriptions, wills, sessions). A node whose own reads are stale (it
//   cannot reach PostgreSQL) gives no opinion: it is not serving anyway, and
//   must not take the others for dead because it cannot see them.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cluster/pg_link.hpp"

namespace sluice::cluster {

class PgLeases {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int64_t kRenewMs = 1000;
  static constexpr int64_t kLeaseMs = 5000;
  static constexpr int64_t kTimeoutMs = 2000;  // a connect or a renewal not answered by then has failed

  // Migrates cluster_nodes (the store's runner, owner "cluster") and takes
  // the lease (the next epoch). Throws std::runtime_error, with a message an
  // operator can act on, when PostgreSQL cannot be reached.
  PgLeases(std::string conninfo, std::string node, int64_t hold_ms);
  ~PgLeases();
  PgLeases(const PgLeases&) = delete;
  PgLeases& operator=(const PgLeases&) = delete;

  void start();  // the renewing thread
  void stop();

  bool held() const;
  // Renewals that found the lease gone (ran out, or another epoch). The lease
  // is taken again at the next renewal, so held() may be false for only a
  // moment: the watchdog stops serving when this moved, even if it missed that.
  uint64_t losses() const { return losses_.load(std::memory_order_acquire); }
  void rejoin();
  int64_t epoch() const;
  bool expired(const std::string& node) const;
  // The other nodes' rows at the last fresh read: name, lease still running.
  std::vector<std::pair<std::string, bool>> peers() const;

 private:
  struct Peer {
    int64_t epoch = 0;
    bool running = false;
  };
  void renew_once();
  bool fresh_locked(Clock::time_point now) const;
  void note_peers_locked(std::map<std::string, Peer, std::less<>> peers, bool first);

  PgLink link_;  // the renewing thread's (and the constructor's, before it runs)
  const std::string node_;
  const int64_t hold_ms_;
  mutable std::shared_mutex mu_;  // expired() asks it per shared-subscription delivery: readers share it
  bool joined_ = false;          // the lease is taken at epoch_; false: the next renewal takes it anew
  int64_t epoch_ = 0;
  uint64_t generation_ = 0;      // rejoin()s asked
  Clock::time_point renewed_{};  // when the last successful renewal (or join) was sent
  Clock::time_point read_{};     // when the last successful read of the others was sent
  std::map<std::string, Peer, std::less<>> peers_;
  std::atomic<bool> any_expired_{false};  // some peer's lease had run out at the last read: else expired() is false
  bool failing_ = false;         // the last attempt failed (logged once per outage)
  std::atomic<uint64_t> losses_{0};
  std::atomic<bool> stopping_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace sluice::cluster
