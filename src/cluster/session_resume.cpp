#include "cluster/sessions.hpp"

// A session held elsewhere resumes here (docs/cluster.md, "QoS 1 and 2: once
// in the log, a position per session", "A dead holder's share"): its entry
// from the mirror at the CONNECT, then a worker waits for a live holder's
// hand-over, reads the log from the session's position (catch_up.hpp) and
// loop 0 delivers the replay before what was held meanwhile.
#include <algorithm>
#include <chrono>
#include <thread>

#include "broker/broker.hpp"
#include "broker/clock.hpp"
#include "broker/dispatch.hpp"
#include "broker/namespace.hpp"
#include "broker/session.hpp"
#include "cluster/catch_up.hpp"
#include "cluster/leases.hpp"
#include "cluster/nats_link.hpp"
#include "cluster/shared_groups.hpp"
#include "common/log.hpp"
#include "mqtt/topic.hpp"

namespace sluice::cluster {

namespace {

constexpr int64_t kHandoverWaitMs = 3000;   // a live holder's final position
constexpr int64_t kTakeMarginMs = 100;      // a dead holder's session taken: for the others' mirrors

int64_t wall_now() { return broker::wall_ms(); }

}  // namespace

std::optional<broker::SessionDirectory::Resumable> ClusterSessions::resumable(std::string_view ns,
                                                                               std::string_view client_id,
                                                                               bool clean_start) {
  const std::string kv_key = key_of(ns, client_id);
  std::lock_guard lk(mu_);
  auto m = mirror_.find(kv_key);
  if (m == mirror_.end() || !m->second.st) return std::nullopt;
  const StoredSession& st = *m->second.st;
  const int64_t now = wall_now();
  const bool expired = st.expiry_s != 0xFFFFFFFF && st.offline_wall_ms &&
                       now > st.offline_wall_ms + int64_t(st.expiry_s) * 1000;
  if (clean_start || expired || st.expiry_s == 0) {
    // Clean start here ends the session everywhere (its holder, if alive, is
    // evicted by the claim and its hand-over then finds the entry rewritten).
    Write w;
    w.kv_key = kv_key;
    w.value = kEnded;
    if (clean_start) w.clean_start_ms = now;
    writes_.push_back(std::move(w));
    run_cv_.notify_all();
    if (expired) stats_.expired.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  Resuming rs{st.position, st.origins, {}};
  broker::SessionDirectory::Resumable r;
  r.subscriptions = st.subscriptions;
  r.incoming_qos2 = st.incoming_qos2;
  for (const auto& [seq, id] : st.pubrecd) {
    r.released.emplace_back(id, seq);
    rs.released.push_back(seq);
  }
  for (const auto& [seq, id] : st.sent) r.sent.emplace_back(id, seq);
  std::sort(rs.released.begin(), rs.released.end());
  resuming_[kv_key] = std::move(rs);
  return r;
}

void ClusterSessions::resume(broker::Namespace& ns, const std::shared_ptr<broker::Session>& s) {
  {
    std::lock_guard lk(run_mu_);
    jobs_.push_back(Job{ns.id(), s->client_id(), key_of(ns.id(), s->client_id()), s});
  }
  run_cv_.notify_all();
  stats_.resumed.fetch_add(1, std::memory_order_relaxed);
}

void ClusterSessions::take_from_dead(const std::string& kv_key, const StoredSession& st) {
  StoredSession mine = st;
  mine.owner = node_;
  mine.released = false;
  mine.dead = false;
  mine.offline_wall_ms = 0;
  for (int attempt = 0; attempt < 10; ++attempt) {
    uint64_t rev = 0;
    {
      std::lock_guard lk(mu_);
      auto m = mirror_.find(kv_key);
      if (m == mirror_.end() || !m->second.st) return;  // ended meanwhile
      if (m->second.st->owner == node_ && !m->second.st->dead) return;  // this node's own already
      rev = m->second.revision;
    }
    mine.written_wall_ms = wall_now();
    uint64_t new_rev = 0;
    stats_.writes.fetch_add(1, std::memory_order_relaxed);
    if (link_.kv_update(kBucket, kv_key, mine.encode(), rev, &new_rev)) {
      {
        std::lock_guard lk(mu_);
        if (auto b = by_kv_.find(kv_key); b != by_kv_.end())
          if (auto it = local_.find(b->second); it != local_.end()) {
            it->second.took = true;
            it->second.rev = new_rev;
          }
      }
      // The other nodes' mirrors show it before the log's end is taken, so a
      // message after that end is decided without the dead node (live,
      // here): this node's own mirror shows it (the bucket's watchers get a
      // write at about the same time), then a margin for a busy node.
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1000);
      while (std::chrono::steady_clock::now() < until && mirror_revision(kv_key) < new_rev)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      std::this_thread::sleep_for(std::chrono::milliseconds(kTakeMarginMs));
      return;
    }
    stats_.failed_writes.fetch_add(1, std::memory_order_relaxed);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a survivor's sweep released it meanwhile
  }
  log::warn("cluster: session {}: could not write it as node {}'s before its replay", kv_key, node_);
}

void ClusterSessions::replay_loop() {
  std::unique_lock lk(run_mu_);
  while (true) {
    run_cv_.wait(lk, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lk.unlock();
    replay(std::move(job));
    lk.lock();
  }
}

void ClusterSessions::replay(Job job) {
  using Clock = std::chrono::steady_clock;
  // 1. A live holder hands the session over first: its final position.
  StoredSession st;
  bool timed_out = false;
  const auto wait_until = Clock::now() + std::chrono::milliseconds(kHandoverWaitMs);
  while (true) {
    {
      std::lock_guard lk(mu_);
      auto m = mirror_.find(job.kv_key);
      if (m != mirror_.end() && m->second.st) st = *m->second.st;
      else if (auto r = resuming_.find(job.kv_key); r != resuming_.end()) st.position = r->second.position;
      const bool ready = m == mirror_.end() || !m->second.st || st.released || st.owner == node_ ||
                         !leases_.alive(st.owner);
      if (ready) break;
    }
    if (Clock::now() >= wait_until) {
      log::warn("cluster: session {}: node {} did not hand it over in {} ms; resuming from its last position",
                job.client_id, st.owner, kHandoverWaitMs);
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const uint64_t from = st.position;
  // Its holder died (or never handed it over): the shares it decided after
  // its last write, and those decided for it since (a dead node that parks a
  // member goes on counting in the group: SharedGroups), were never written.
  // They are the messages after the holder's frontier that the holder wins
  // among the group's member nodes known then (docs/cluster.md, "A dead
  // holder's share").
  const bool previous_incarnation = st.owner == node_ && st.written_wall_ms < started_wall_;
  const bool died = !st.owner.empty() && (st.dead || previous_incarnation ||
                                          (st.owner != node_ && (timed_out || !leases_.alive(st.owner))));
  const uint64_t frontier = st.frontier ? st.frontier : st.position;
  // Per subscription of the entry: the nodes the holder's share is decided
  // among (empty: not a shared subscription, or nothing to recompute).
  std::vector<std::vector<std::string>> deciders(st.subscriptions.size());
  if (died && shared_groups_) {
    bool any = false;
    for (size_t i = 0; i < st.subscriptions.size(); ++i) {
      std::string_view group, inner = st.subscriptions[i].first;
      if (!mqtt::parse_shared(st.subscriptions[i].first, group, inner)) continue;
      any = true;
      // A node that left since only adds duplicates (catch_up.hpp).
      deciders[i] = share_deciders(*shared_groups_, job.ns, group, inner, st.owner, frontier);
    }
    if (any) take_from_dead(job.kv_key, st);
  }
  // QoS 2 messages the session took along as PUBREC'd at its CONNECT
  // (Session::adopt_qos2): PUBREL goes out again, the message does not.
  std::vector<uint64_t> adopted;
  {
    std::lock_guard lk(mu_);
    if (auto r = resuming_.find(job.kv_key); r != resuming_.end()) adopted = r->second.released;
  }
  // Its share of shared subscriptions not acknowledged yet may lie below the
  // position (a position only moves past what every subscription is done with,
  // but a holder's floor can pass a share): read from the lowest of them.
  const uint64_t lo = st.shared.empty() ? from : std::min(from, st.shared.front() - 1);
  // 2. The log after the position, up to its end now; what comes later is live.
  const uint64_t upto = log_end(link_).value_or(from);
  auto copies = read_log(link_, job.ns, lo, upto, "session " + job.client_id);
  std::vector<broker::MessagePtr> messages;
  std::vector<std::pair<std::string, uint64_t>> origin_of;  // per message: (Sl-N, Sl-O)
  messages.reserve(copies.size());
  origin_of.reserve(copies.size());
  for (auto& c : copies) {
    origin_of.emplace_back(std::move(c.node), c.origin);
    messages.push_back(std::move(c.message));
  }
  log::info("cluster: session {} resumes on node {}: {} message(s) of the log in ({}, {}] read back "
            "({} of its share of shared subscriptions, {} QoS 2 PUBREC'd{})",
            job.client_id, node_, messages.size(), lo, upto, st.shared.size(), adopted.size(),
            died ? ", its holder " + st.owner + " died: its share after " + std::to_string(frontier) + " recomputed"
                 : std::string());
  // 3. On loop 0 (where the log is routed): the replay, then what was held.
  if (!dispatcher_) return;
  stats_.replayed.fetch_add(messages.size(), std::memory_order_relaxed);
  dispatcher_->run(0, [this, job, st, from, upto, frontier, deciders = std::move(deciders),
                       adopted = std::move(adopted), messages = std::move(messages),
                       origin_of = std::move(origin_of)](broker::WorkerContext& ctx) {
    auto s = job.session.lock();
    auto ns = broker_->find(job.ns);
    if (s && ns && !s->ended()) {
      const bool p2p = ns->config().p2p_topics;
      std::vector<std::pair<broker::MessagePtr, broker::SubOptions>> replay;
      replay.reserve(messages.size());
      for (size_t i = 0; i < messages.size(); ++i) {
        const auto& m = messages[i];
        // Published by this session itself on an earlier holder: No Local
        // subscriptions skip it there, as on one node.
        const bool own = std::find(st.origins.begin(), st.origins.end(), origin_of[i]) != st.origins.end();
        if (std::binary_search(adopted.begin(), adopted.end(), m->log_seq)) continue;  // PUBREC'd: PUBREL only
        // Past the position: what its subscriptions match. Its shared
        // subscriptions (one member cluster-wide) bring only what the
        // cluster gave this session (its entry's list), at or below the
        // position too; what went to other members is not replayed.
        const bool after = m->log_seq > from;
        const bool listed = std::binary_search(st.shared.begin(), st.shared.end(), m->log_seq);
        std::optional<broker::SubOptions> best, share;
        for (size_t k = 0; k < st.subscriptions.size(); ++k) {
          const auto& [f, o] = st.subscriptions[k];
          std::string_view group, inner = f;
          const bool is_shared = mqtt::parse_shared(f, group, inner);
          bool its_share = listed;
          if (is_shared && !its_share && !deciders[k].empty() && m->log_seq > frontier)
            its_share = wins_among(deciders[k], st.owner, *m);
          if (is_shared ? !its_share : !after) continue;
          if (o.no_local && own) continue;
          if (!mqtt::topic_matches(inner, m->topic)) continue;
          auto& b = is_shared ? share : best;
          if (!b || o.qos > b->qos) b = o;
        }
        if (!best && share) {
          best = share;
          best->shared = true;  // Session::finish_replay: its live copy is not delivered again
        }
        if (!best && p2p && after) {
          const size_t slash = m->topic.find('/');
          if (slash != std::string::npos && m->topic.compare(slash, 5, "/p2p/") == 0 &&
              std::string_view(m->topic).substr(slash + 5) == job.client_id) {
            best = broker::SubOptions{};
            best->qos = m->qos;
          }
        }
        if (best && std::min(m->qos, best->qos) > 0) replay.emplace_back(m, *best);
      }
      s->finish_replay(upto, replay, ctx);
      // Sent on the old node, not acknowledged: again under their ids, from the client's loop.
      if (auto w = s->adopted_resend_worker())
        dispatcher_->run(*w, [s](broker::WorkerContext& c) { s->send_adopted(c); });
    }
    std::lock_guard lk(mu_);
    resuming_.erase(job.kv_key);
    if (auto b = by_kv_.find(job.kv_key); b != by_kv_.end())
      if (auto it = local_.find(b->second); it != local_.end() && it->second.replaying) {
        it->second.replaying = false;
        it->second.floor = std::max(it->second.floor, upto);
        it->second.dirty = true;
      }
  });
}

}  // namespace sluice::cluster
