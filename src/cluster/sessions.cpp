#include "cluster/sessions.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <sstream>

#include "broker/broker.hpp"
#include "broker/clock.hpp"
#include "broker/namespace.hpp"
#include "cluster/leases.hpp"
#include "cluster/nats_link.hpp"
#include "cluster/shared_groups.hpp"
#include "cluster/subjects.hpp"
#include "common/crypto.hpp"
#include "common/log.hpp"
#include "mqtt/topic.hpp"

namespace sluice::cluster {

namespace {

constexpr int64_t kFlushMs = 250;

int64_t wall_now() { return broker::wall_ms(); }

// Reads "<number> " from `v` at `pos`.
template <class T>
bool read_num(std::string_view v, size_t& pos, T& out) {
  const auto r = std::from_chars(v.data() + pos, v.data() + v.size(), out);
  if (r.ec != std::errc()) return false;
  pos = static_cast<size_t>(r.ptr - v.data());
  if (pos < v.size() && (v[pos] == ' ' || v[pos] == '\n')) ++pos;
  return true;
}

}  // namespace

// "S1 <released> <expiry> <offline wall> <written wall> <position> <n subs> <owner len>:<owner>\n"
// then per subscription "<qos> <no local> <rap> <rh> <sub id> <len>:<filter>\n"
// (lengths, so a filter may hold any byte).
std::string StoredSession::encode() const {
  std::string out = "S1 " + std::to_string(released ? 1 : 0) + " " + std::to_string(expiry_s) + " " +
                    std::to_string(offline_wall_ms) + " " + std::to_string(written_wall_ms) + " " +
                    std::to_string(position) + " " + std::to_string(subscriptions.size()) + " " +
                    std::to_string(owner.size()) + ":" + owner + "\n";
  for (const auto& [f, o] : subscriptions)
    out += std::to_string(o.qos) + " " + std::to_string(o.no_local ? 1 : 0) + " " +
           std::to_string(o.retain_as_published ? 1 : 0) + " " + std::to_string(o.retain_handling) + " " +
           std::to_string(o.subscription_id) + " " + std::to_string(f.size()) + ":" + f + "\n";
  // Optional (entries of older nodes have none): "O <n>\n" then "<serial> <len>:<node>\n".
  if (!origins.empty()) {
    out += "O " + std::to_string(origins.size()) + "\n";
    for (const auto& [node, serial] : origins)
      out += std::to_string(serial) + " " + std::to_string(node.size()) + ":" + node + "\n";
  }
  // Optional, in this order (older nodes stop reading before them):
  // "H <runs> <gap> <length>...\n": the shared sequences as runs (a run starts
  // <gap> after the previous run's last sequence, 0 at first);
  // "I <n> <id>...\n": incoming QoS 2 ids; "R <n> <log seq> <id>...\n": PUBREC'd;
  // "U <n> <log seq> <id>...\n": sent, not acknowledged.
  if (!shared.empty()) {
    std::vector<std::pair<uint64_t, uint64_t>> runs;  // (first, length)
    for (uint64_t q : shared)
      if (!runs.empty() && runs.back().first + runs.back().second == q) ++runs.back().second;
      else runs.emplace_back(q, 1);
    out += "H " + std::to_string(runs.size());
    uint64_t last = 0;
    for (const auto& [first, len] : runs) {
      out += " " + std::to_string(first - last) + " " + std::to_string(len);
      last = first + len - 1;
    }
    out += "\n";
  }
  if (!incoming_qos2.empty()) {
    out += "I " + std::to_string(incoming_qos2.size());
    for (uint16_t id : incoming_qos2) out += " " + std::to_string(id);
    out += "\n";
  }
  if (!pubrecd.empty()) {
    out += "R " + std::to_string(pubrecd.size());
    for (const auto& [seq, id] : pubrecd) out += " " + std::to_string(seq) + " " + std::to_string(id);
    out += "\n";
  }
  if (!sent.empty()) {
    out += "U " + std::to_string(sent.size());
    for (const auto& [seq, id] : sent) out += " " + std::to_string(seq) + " " + std::to_string(id);
    out += "\n";
  }
  // Optional, last: "F <frontier> <dead>\n".
  if (frontier || dead) out += "F " + std::to_string(frontier) + " " + std::to_string(dead ? 1 : 0) + "\n";
  return out;
}

std::optional<StoredSession> StoredSession::decode(std::string_view v) {
  if (v.substr(0, 3) != "S1 ") return std::nullopt;
  size_t pos = 3;
  StoredSession s;
  int released = 0;
  size_t n = 0;
  // owner "<len>:<bytes>"
  auto read_lenstr = [&](std::string& out) -> bool {
    size_t l = 0;
    const auto r = std::from_chars(v.data() + pos, v.data() + v.size(), l);
    if (r.ec != std::errc()) return false;
    pos = static_cast<size_t>(r.ptr - v.data());
    if (pos >= v.size() || v[pos] != ':' || pos + 1 + l > v.size()) return false;
    out.assign(v.substr(pos + 1, l));
    pos += 1 + l;
    if (pos < v.size() && v[pos] == '\n') ++pos;
    return true;
  };
  if (!read_num(v, pos, released) || !read_num(v, pos, s.expiry_s) || !read_num(v, pos, s.offline_wall_ms) ||
      !read_num(v, pos, s.written_wall_ms) || !read_num(v, pos, s.position) || !read_num(v, pos, n) ||
      !read_lenstr(s.owner))
    return std::nullopt;
  s.released = released != 0;
  for (size_t i = 0; i < n; ++i) {
    broker::SubOptions o;
    int qos = 0, nl = 0, rap = 0, rh = 0;
    std::string f;
    if (!read_num(v, pos, qos) || !read_num(v, pos, nl) || !read_num(v, pos, rap) || !read_num(v, pos, rh) ||
        !read_num(v, pos, o.subscription_id) || !read_lenstr(f))
      return std::nullopt;
    o.qos = static_cast<uint8_t>(qos);
    o.no_local = nl != 0;
    o.retain_as_published = rap != 0;
    o.retain_handling = static_cast<uint8_t>(rh);
    s.subscriptions.emplace_back(std::move(f), o);
  }
  if (v.substr(pos, 2) == "O ") {
    pos += 2;
    size_t k = 0;
    if (!read_num(v, pos, k)) return std::nullopt;
    for (size_t i = 0; i < k; ++i) {
      uint64_t serial = 0;
      std::string node;
      if (!read_num(v, pos, serial) || !read_lenstr(node)) return std::nullopt;
      s.origins.emplace_back(std::move(node), serial);
    }
  }
  constexpr uint64_t kMaxListed = 1'000'000;  // a corrupt entry must not make a huge list
  if (v.substr(pos, 2) == "H ") {
    pos += 2;
    uint64_t runs = 0, last = 0;
    if (!read_num(v, pos, runs) || runs > kMaxListed) return std::nullopt;
    for (uint64_t i = 0; i < runs; ++i) {
      uint64_t gap = 0, len = 0;
      if (!read_num(v, pos, gap) || !read_num(v, pos, len) || len == 0 || s.shared.size() + len > kMaxListed)
        return std::nullopt;
      for (uint64_t k = 0; k < len; ++k) s.shared.push_back(last + gap + k);
      last = s.shared.back();
    }
  }
  if (v.substr(pos, 2) == "I ") {
    pos += 2;
    size_t k = 0;
    if (!read_num(v, pos, k) || k > 65535) return std::nullopt;
    for (size_t i = 0; i < k; ++i) {
      uint16_t id = 0;
      if (!read_num(v, pos, id)) return std::nullopt;
      s.incoming_qos2.push_back(id);
    }
  }
  // "R " (PUBREC'd) and "U " (sent, not acknowledged): a count, then (log seq, packet id) pairs.
  auto read_pairs = [&](std::string_view tag, auto& out) {
    if (v.substr(pos, 2) != tag) return true;  // absent: an older node's entry
    pos += 2;
    size_t k = 0;
    if (!read_num(v, pos, k) || k > 65535) return false;
    for (size_t i = 0; i < k; ++i) {
      uint64_t seq = 0;
      uint16_t id = 0;
      if (!read_num(v, pos, seq) || !read_num(v, pos, id)) return false;
      out.emplace_back(seq, id);
    }
    return true;
  };
  if (!read_pairs("R ", s.pubrecd) || !read_pairs("U ", s.sent)) return std::nullopt;
  if (v.substr(pos, 2) == "F ") {
    pos += 2;
    int dead = 0;
    if (!read_num(v, pos, s.frontier) || !read_num(v, pos, dead) || (dead != 0 && dead != 1)) return std::nullopt;
    s.dead = dead != 0;
  }
  return s;
}

std::string ClusterSessions::key_of(std::string_view ns, std::string_view client_id) {
  std::string token = escape_token(client_id);
  if (token.size() > 200) token = "H" + common::sha256_hex(client_id);
  return escape_token(ns) + "." + token;
}

ClusterSessions::ClusterSessions(NatsLink& link, NodeLeases& leases, std::string node)
    : link_(link), leases_(leases), node_(std::move(node)) {}

ClusterSessions::~ClusterSessions() { stop(); }

void ClusterSessions::start(broker::Broker& broker, broker::Dispatcher& d, uint64_t log_start) {
  broker_ = &broker;
  dispatcher_ = &d;
  started_wall_ = wall_now();
  frontier_.store(log_start, std::memory_order_release);
  watch_ = link_.kv_watch(kBucket, [this](NatsMessage&& e) { apply(std::move(e)); });
  writer_ = std::thread([this] { writer_loop(); });
  replayer_ = std::thread([this] { replay_loop(); });
}

void ClusterSessions::stop() {
  {
    std::lock_guard lk(run_mu_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  run_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (replayer_.joinable()) replayer_.join();
  if (watch_) link_.unwatch(watch_);
  watch_ = 0;
}

void ClusterSessions::apply(NatsMessage&& e) {
  std::lock_guard lk(mu_);
  Mirrored& m = mirror_[e.subject];
  if (e.stream_seq < m.revision) return;
  m.revision = e.stream_seq;
  std::unique_lock pk(parked_mu_);
  if (m.st) index_parked_locked(e.subject, *m.st, -1);
  if (e.headers.count("op") || e.data == kEnded) m.st.reset();
  else m.st = StoredSession::decode(e.data);
  if (m.st) index_parked_locked(e.subject, *m.st, +1);
}

void ClusterSessions::index_parked_locked(const std::string& kv_key, const StoredSession& st, int delta) {
  std::optional<std::string> ns;
  for (const auto& [f, o] : st.subscriptions) {
    std::string_view group, inner = f;
    if (!mqtt::parse_shared(f, group, inner)) continue;
    if (!ns && !(ns = unescape_token(std::string_view(kv_key).substr(0, kv_key.find('.'))))) return;
    const std::string d = SharedGroups::digest(*ns, group, inner);
    auto& owners = parked_[d];
    if ((owners[st.owner] += delta) <= 0) owners.erase(st.owner);
    if (owners.empty()) parked_.erase(d);
  }
}

bool ClusterSessions::parks(const std::string& digest, const std::string& node) const {
  std::shared_lock lk(parked_mu_);
  auto it = parked_.find(digest);
  return it != parked_.end() && it->second.count(node) != 0;
}

// ---- what the broker records ----

void ClusterSessions::record(const broker::PersistRecord& r) {
  using Kind = broker::PersistRecord::Kind;
  std::lock_guard lk(mu_);
  switch (r.kind) {
    case Kind::SessionSaved: {
      auto [it, fresh] = local_.try_emplace(r.key);
      Local& l = it->second;
      if (fresh) {
        l.ns = r.ns;
        l.client_id = r.client_id;
        l.kv_key = key_of(r.ns, r.client_id);
        l.floor = frontier_.load(std::memory_order_acquire);
        if (auto rs = resuming_.find(l.kv_key); rs != resuming_.end()) {
          l.floor = rs->second.position;
          l.inherited = rs->second.origins;
          l.replaying = true;
        }
        by_kv_[l.kv_key] = r.key;
        handover_.erase(l.kv_key);
      }
      l.expiry_s = r.expiry_s;
      if (r.seq) l.serial = r.seq;
      l.offline_wall_ms = 0;
      l.dirty = true;
      break;
    }
    case Kind::SessionOffline:
      if (auto it = local_.find(r.key); it != local_.end()) {
        it->second.offline_wall_ms = r.wall_ms ? r.wall_ms : wall_now();
        it->second.dirty = true;
      }
      break;
    case Kind::SubscriptionAdded:
      if (auto it = local_.find(r.key); it != local_.end()) {
        it->second.subs[r.text] = r.options;
        it->second.dirty = true;
      }
      break;
    case Kind::SubscriptionRemoved:
      if (auto it = local_.find(r.key); it != local_.end()) {
        it->second.subs.erase(r.text);
        it->second.dirty = true;
      }
      break;
    case Kind::MessageQueued:
      if (r.message && r.message->log_seq != 0)
        if (auto it = local_.find(r.key); it != local_.end()) {
          it->second.pending.insert(r.message->log_seq);
          if (r.options.shared) {
            it->second.shared.insert(r.message->log_seq);
            it->second.dirty = true;  // a share the entry must list before a move
          }
          queued_[r.seq] = QueuedRef{r.key, r.message->log_seq, r.options.shared};
        }
      break;
    case Kind::MessageSent:
      // Its id travels with a move: the new node resends it under that id.
      if (auto q = queued_.find(r.seq); q != queued_.end())
        if (auto it = local_.find(q->second.key); it != local_.end()) {
          it->second.sent[r.seq] = {q->second.log_seq, r.packet_id};
          it->second.dirty = true;
        }
      break;
    case Kind::MessageReleased:
      if (auto q = queued_.find(r.seq); q != queued_.end())
        if (auto it = local_.find(q->second.key); it != local_.end()) {
          it->second.sent.erase(r.seq);
          it->second.released[r.seq] = {q->second.log_seq, r.packet_id};
          it->second.dirty = true;
        }
      break;
    case Kind::MessageDone:
      if (auto q = queued_.find(r.seq); q != queued_.end()) {
        if (auto it = local_.find(q->second.key); it != local_.end()) {
          Local& l = it->second;
          if (auto p = l.pending.find(q->second.log_seq); p != l.pending.end()) l.pending.erase(p);
          if (q->second.shared)
            if (auto p = l.shared.find(q->second.log_seq); p != l.shared.end()) {
              l.shared.erase(p);
              l.dirty = true;
            }
          if (l.released.erase(r.seq)) l.dirty = true;
          if (l.sent.erase(r.seq)) l.dirty = true;
        }
        queued_.erase(q);
      }
      break;
    case Kind::IncomingQos2:
      if (auto it = local_.find(r.key); it != local_.end() && it->second.qos2_in.insert(r.packet_id).second)
        it->second.dirty = true;
      break;
    case Kind::IncomingQos2Done:
      if (auto it = local_.find(r.key); it != local_.end() && it->second.qos2_in.erase(r.packet_id))
        it->second.dirty = true;
      break;
    case Kind::SessionEnded: {
      auto it = local_.find(r.key);
      if (it == local_.end()) break;
      Local& l = it->second;
      const bool handed = handover_.erase(l.kv_key) > 0;
      if (!l.fenced) {
        Write w;
        w.kv_key = l.kv_key;
        w.from_mirror = !l.took;
        w.expect = l.rev;
        w.holder_final = l.took;
        if (handed) {
          // Taken over by another node: the final state, released to it.
          StoredSession st = stored_locked(l);
          st.released = true;
          st.offline_wall_ms = wall_now();
          w.value = st.encode();
          stats_.handed_over.fetch_add(1, std::memory_order_relaxed);
        } else {
          w.value = kEnded;
        }
        writes_.push_back(std::move(w));
      }
      for (auto q = queued_.begin(); q != queued_.end();)
        q = q->second.key == r.key ? queued_.erase(q) : std::next(q);
      if (auto b = by_kv_.find(l.kv_key); b != by_kv_.end() && b->second == r.key) by_kv_.erase(b);
      local_.erase(it);
      run_cv_.notify_all();
      break;
    }
    default:
      break;
  }
  stats_.held.store(local_.size(), std::memory_order_relaxed);
}

void ClusterSessions::handing_over(std::string_view ns, std::string_view client_id) {
  std::lock_guard lk(mu_);
  const int64_t now = wall_now();
  std::erase_if(handover_, [now](const auto& kv) { return now - kv.second > 60'000; });
  handover_[key_of(ns, client_id)] = now;
  // A clean start here that another node's CONNECT overtook (its claim came
  // later): the later claim wins, so the end this node is still trying to
  // write must not end the session the later CONNECT resumed.
  std::erase_if(overtaken_, [now](const auto& kv) { return now - kv.second > 60'000; });
  overtaken_[key_of(ns, client_id)] = now;
}

bool ClusterSessions::overtaken_locked(const Write& w) const {
  if (!w.clean_start_ms) return false;
  auto it = overtaken_.find(w.kv_key);
  return it != overtaken_.end() && it->second >= w.clean_start_ms;
}

uint64_t ClusterSessions::position_locked(const Local& l) const {
  if (l.replaying) return l.floor;
  // Just below the lowest sequence still waiting here, shares aside (the
  // entry lists those apart and a replay reads them wherever they lie). Not
  // held at the floor then: after a replay the floor is the replay's end, and
  // replayed messages not yet acknowledged lie below it (a second move must
  // read them again). With nothing waiting: what this node has routed.
  for (uint64_t q : l.pending)
    if (!l.shared.count(q)) return q - 1;
  return std::max(frontier_.load(std::memory_order_acquire), l.floor);
}

StoredSession ClusterSessions::stored_locked(const Local& l) const {
  StoredSession st;
  st.owner = node_;
  st.expiry_s = l.expiry_s;
  st.offline_wall_ms = l.offline_wall_ms;
  st.written_wall_ms = wall_now();
  st.position = position_locked(l);
  // Every share decided here up to the frontier was recorded before it moved
  // (ClusterBus::drain routes, then calls routed()).
  st.frontier = std::max(frontier_.load(std::memory_order_acquire), l.floor);
  for (const auto& [f, o] : l.subs) st.subscriptions.emplace_back(f, o);
  if (l.serial) st.origins.emplace_back(node_, l.serial);
  for (const auto& o : l.inherited)
    if (st.origins.size() < 8 && o != std::pair<std::string, uint64_t>(node_, l.serial)) st.origins.push_back(o);
  for (uint64_t q : l.shared)
    if (st.shared.empty() || st.shared.back() != q) st.shared.push_back(q);
  st.incoming_qos2.assign(l.qos2_in.begin(), l.qos2_in.end());
  for (const auto& [pseq, r] : l.released) st.pubrecd.push_back(r);
  std::sort(st.pubrecd.begin(), st.pubrecd.end());
  for (const auto& [pseq, r] : l.sent) st.sent.push_back(r);
  std::sort(st.sent.begin(), st.sent.end());
  return st;
}

uint64_t ClusterSessions::mirror_revision(const std::string& kv_key) const {
  std::lock_guard lk(mu_);
  return mirror_revision_locked(kv_key);
}

uint64_t ClusterSessions::mirror_revision_locked(const std::string& kv_key) const {
  auto m = mirror_.find(kv_key);
  return m == mirror_.end() ? 0 : m->second.revision;
}

// ---- the writer: every kFlushMs, what changed, by compare-and-set ----

void ClusterSessions::writer_loop() {
  int64_t last_sweep = 0;
  std::unique_lock lk(run_mu_);
  while (!stopping_) {
    run_cv_.wait_for(lk, std::chrono::milliseconds(kFlushMs));
    if (stopping_) break;
    lk.unlock();
    flush();
    const int64_t now = wall_now();
    if (now - last_sweep > 1000) {
      last_sweep = now;
      sweep();
    }
    lk.lock();
  }
  lk.unlock();
  release_all();
}

void ClusterSessions::release_all() {
  // A node stopping (SIGTERM) lets its sessions go: each entry written once
  // more, released, so that the node a client resumes on reads it at once
  // instead of waiting kHandoverWaitMs for a hand-over that will not come.
  // Marked dead as a killed holder's are: what its last moments decided of
  // shared subscriptions is recomputed there (duplicates, never a loss).
  // The position is as a periodic write would have it; what the clients ack
  // after this is delivered again. Bounded: at most kReleaseBudgetMs, the
  // rest wait as before (the sweep and the hand-over wait).
  struct Release {
    std::string kv_key, value;
    uint64_t rev;  // compare-and-set on this node's own last write
  };
  std::vector<Release> batch;
  {
    std::lock_guard lk(mu_);
    for (const auto& [key, l] : local_) {
      if (l.fenced || l.replaying || !l.took) continue;
      StoredSession st = stored_locked(l);
      st.released = true;
      st.dead = true;
      if (!st.offline_wall_ms) st.offline_wall_ms = wall_now();
      batch.push_back(Release{l.kv_key, st.encode(), l.rev});
    }
  }
  if (batch.empty() || !link_.connected()) return;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kReleaseBudgetMs);
  size_t written = 0;
  for (const auto& r : batch) {
    if (std::chrono::steady_clock::now() >= until) break;
    stats_.writes.fetch_add(1, std::memory_order_relaxed);
    if (link_.kv_update(kBucket, r.kv_key, r.value, r.rev)) ++written;
    else stats_.failed_writes.fetch_add(1, std::memory_order_relaxed);
  }
  log::info("cluster: node {} stopping: {} of {} session(s) released to the other nodes", node_, written,
            batch.size());
}

void ClusterSessions::flush() {
  std::vector<Write> batch;
  {
    std::lock_guard lk(mu_);
    while (!writes_.empty()) {
      batch.push_back(std::move(writes_.front()));
      writes_.pop_front();
    }
    for (auto& [key, l] : local_) {
      if (l.fenced || l.replaying) continue;
      const uint64_t pos = position_locked(l);
      if (!l.dirty && pos == l.written_position) continue;
      Write w;
      w.kv_key = l.kv_key;
      w.store_key = key;
      w.from_mirror = !l.took;
      w.expect = l.rev;
      w.value = stored_locked(l).encode();
      l.dirty = false;
      l.written_position = pos;
      batch.push_back(std::move(w));
    }
  }
  if (!link_.connected()) {
    // Kept for when NATS is back: the held sessions are marked dirty again.
    std::lock_guard lk(mu_);
    for (auto& w : batch)
      if (w.store_key == 0) writes_.push_back(std::move(w));
      else if (auto it = local_.find(w.store_key); it != local_.end()) it->second.dirty = true;
    return;
  }
  for (auto& w : batch) {
    uint64_t rev = w.expect;
    if (w.from_mirror) {
      std::lock_guard lk(mu_);
      if (overtaken_locked(w)) continue;
      if (w.holder_final) {
        // Retried on the mirror's revision: only while the entry there is
        // still this node's own; anyone else's write since (an end by a clean
        // start, another holder) wins.
        auto m = mirror_.find(w.kv_key);
        if (m == mirror_.end() || !m->second.st || m->second.st->owner != node_ || m->second.st->released) continue;
      }
      rev = mirror_revision_locked(w.kv_key);
    }
    uint64_t new_rev = 0;
    stats_.writes.fetch_add(1, std::memory_order_relaxed);
    if (link_.kv_update(kBucket, w.kv_key, w.value, rev, &new_rev)) {
      if (w.store_key) {
        std::lock_guard lk(mu_);
        if (auto it = local_.find(w.store_key); it != local_.end()) {
          it->second.took = true;
          it->second.rev = new_rev;
        }
      }
      continue;
    }
    stats_.failed_writes.fetch_add(1, std::memory_order_relaxed);
    log::debug("cluster: session entry {}: compare-and-set on revision {} lost (node {})", w.kv_key, rev, node_);
    std::lock_guard lk(mu_);
    auto m = mirror_.find(w.kv_key);
    if (w.store_key) {
      auto it = local_.find(w.store_key);
      if (it == local_.end()) continue;
      if (it->second.took) {
        // Written by another node since this node's last write: it holds the
        // session now, and this node is a stale holder (fenced by the revision).
        it->second.fenced = true;
        stats_.fenced.fetch_add(1, std::memory_order_relaxed);
        log::warn("cluster: session {} was written by another node: node {} stops writing it",
                  it->second.client_id, node_);
      } else {
        it->second.dirty = true;  // taking it over: again with the revision the mirror shows then
      }
      continue;
    }
    // A one-off write: an end (clean start here) is tried again (for 5 s)
    // until the entry is ended, past the old holder's hand-over; a hand-over
    // or a sweep that lost the race is dropped (someone else wrote since).
    // A holder's own final write (hand-over or end) whose expected revision
    // was overtaken by its own periodic write still in flight is not a lost
    // race: it is tried again on the revision the mirror shows, as long as
    // the entry there is still this node's.
    const bool own_latest = w.holder_final && m != mirror_.end() && m->second.st && m->second.st->owner == node_ &&
                            !m->second.st->released;
    if (own_latest) w.from_mirror = true;
    const bool retry = own_latest || (w.value == kEnded && w.from_mirror && !(m != mirror_.end() && !m->second.st));
    if (retry && !overtaken_locked(w) && ++w.attempts < 20) writes_.push_back(std::move(w));
  }
}

// Entries of nodes whose lease ran out: marked offline and released (one
// survivor's compare-and-set wins), then ended when they expire.
void ClusterSessions::sweep() {
  const int64_t now = wall_now();
  // Other nodes' entries only once this node has had time to hear every live
  // node. Its own name's entries that it does not hold and that were written
  // before it started are its previous incarnation's (killed and restarted):
  // released at once. Its own entries of this incarnation are its writer's
  // (a session it has just handed over or ended: the mirror has not caught
  // up with that final write yet; releasing it here raced the new holder).
  const bool heard_all = now - started_wall_ >= 10'000;
  std::lock_guard lk(mu_);
  for (auto& [kv_key, m] : mirror_) {
    if (!m.st) continue;
    const StoredSession& st = *m.st;
    const bool mine = st.owner == node_;
    const bool previous_incarnation = mine && st.written_wall_ms < started_wall_;
    if (mine && by_kv_.count(kv_key)) continue;
    if (resuming_.count(kv_key)) continue;
    if (mine && !previous_incarnation && !st.released) continue;
    if (!mine && !heard_all) continue;
    const bool owner_gone = previous_incarnation || (!mine && !leases_.alive(st.owner));
    if (!st.released && !owner_gone) continue;
    Write w;
    w.kv_key = kv_key;
    if (!st.released) {
      StoredSession s2 = st;
      s2.released = true;
      s2.dead = true;  // its holder's last share was not written: recomputed on resume
      s2.offline_wall_ms = st.offline_wall_ms ? st.offline_wall_ms : now;
      w.value = s2.encode();
    } else if (st.expiry_s != 0xFFFFFFFF && st.offline_wall_ms &&
               now > st.offline_wall_ms + int64_t(st.expiry_s) * 1000) {
      w.value = kEnded;
      stats_.expired.fetch_add(1, std::memory_order_relaxed);
    } else {
      continue;
    }
    // One try, by compare-and-set on the revision read here: another
    // survivor may have done it, and any write since (a new holder's) wins.
    // (On the mirror's revision at send time it overwrote a new holder's
    // position with this older entry: the "moved straight back" replays.)
    w.from_mirror = false;
    w.expect = m.revision;
    w.attempts = 19;
    writes_.push_back(std::move(w));
  }
}

}  // namespace sluice::cluster
