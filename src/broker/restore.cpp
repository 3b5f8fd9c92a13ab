// Start-up: the broker state read back from the store put in place, before
// any client connects (so no locks are contended and no records are written
// for what is merely being reloaded).
#include <algorithm>
#include <chrono>

#include "broker/broker.hpp"
#include "broker/clock.hpp"
#include "broker/namespace.hpp"
#include "broker/persistence.hpp"
#include "broker/session.hpp"

namespace sluice::broker {

int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void Broker::set_persistence(Persistence* p) {
  std::lock_guard lock(mu_);
  persist_ = p;
  for (auto& [id, ns] : spaces_) ns->set_persistence(p);
}

size_t Broker::restore(Recovered&& r) {
  const int64_t now = now_ms(), wall = wall_ms();
  size_t restored = 0;
  for (auto& [ns_id, m] : r.retained) {
    if (auto ns = find(ns_id)) {
      ns->retained().set(m);
    } else if (persist_) {
      PersistRecord rec{PersistRecord::Kind::RetainedCleared};
      rec.ns = ns_id;
      rec.text = m->topic;
      persist_->submit(std::move(rec));
    }
  }
  for (auto& rs : r.sessions) {
    auto ns = find(rs.ns);
    if (!ns) {  // its instance is gone: so is the session
      if (persist_) {
        PersistRecord rec{PersistRecord::Kind::SessionEnded};
        rec.key = rs.key;
        persist_->submit(std::move(rec));
      }
      continue;
    }
    ns->restore(rs, now, wall);
    ++restored;
  }
  for (auto& w : r.live_wills) {  // in arming order: of two for one client id, the newer wins
    auto ns = find(w.ns);
    if (ns && w.will) {
      ns->restore_will(w, now);
    } else if (persist_) {  // its instance is gone, or the record is unreadable
      PersistRecord rec{PersistRecord::Kind::WillDisarmed};
      rec.key = w.key;
      persist_->submit(std::move(rec));
    }
  }
  return restored;
}

void Namespace::restore_will(RecoveredWill& w, int64_t now) {
  const int64_t due = now + int64_t(w.delay_s) * 1000;
  std::lock_guard lock(sessions_mu_);
  auto it = sessions_.find(w.client_id);
  if (it != sessions_.end()) {  // restored just before: the connection's persistent session
    it->second->set_recovered_will(std::move(w.will), due, w.key);
    return;
  }
  // A clean session ended with the crash; an offline stand-in with no expiry
  // lets the first housekeeping publish the will and end it.
  auto s = std::make_shared<Session>(*this, w.client_id, next_serial_.fetch_add(1));
  s->set_recovered_will(std::move(w.will), due, w.key);
  add_session_locked(s);
  offline_.push_back(s);
}

void Namespace::restore(RecoveredSession& r, int64_t now, int64_t wall) {
  auto s = std::make_shared<Session>(*this, r.client_id, next_serial_.fetch_add(1));
  s->restore(r, now, wall);
  {
    std::unique_lock trie_lock(trie_.mutex());
    for (const auto& [filter, o] : r.subscriptions)
      if (trie_.subscribe(s.get(), filter, o)) bus_->interest_added(*this, filter);
  }
  std::lock_guard lock(sessions_mu_);
  auto it = sessions_.find(r.client_id);
  if (it != sessions_.end()) end_session_locked(it->second);  // a stale duplicate key
  add_session_locked(s);
  // Offline from now on: housekeeping expires it and publishes its will in due time.
  offline_.push_back(s);
}

void Session::restore(RecoveredSession& r, int64_t now, int64_t wall) {
  std::lock_guard lock(mu_);
  store_key_ = r.key;
  expiry_interval_ = r.expiry_s;
  // Connected when the server stopped: the session counts as disconnected since the restart.
  const int64_t off_wall = r.disconnected_wall_ms ? std::min(r.disconnected_wall_ms, wall) : wall;
  disconnected_at_ = now - (wall - off_wall);
  for (auto& [filter, o] : r.subscriptions) subscriptions_.emplace(filter, o);
  // QoS 2 messages already sent keep their packet ids (the client may hold
  // them); the rest is queued in order and gets new ids when sent.
  for (auto& e : r.entries) {
    if (e.packet_id != 0 && e.qos == 2) {
      // seq 0 with id_seq_ at 65535 below: next_packet_id_locked() scans for
      // collisions while these restored ids are in flight.
      inflight_.push_back(Inflight{e.packet_id, std::move(e.message), e.qos, e.retain, e.released,
                                   e.subscription_id, 0, e.seq});
      next_id_ = e.packet_id;
    } else {
      queue_.push_back(Queued{std::move(e.message), e.qos, e.retain, e.subscription_id, e.seq});
    }
  }
  if (!inflight_.empty()) id_seq_ = 65535;
  if (!queue_.empty()) {
    // Counted, never dropped: every one of these was acknowledged before the
    // restart, even if they now exceed a budget (which then refuses new ones).
    Rare& rs = rare();
    rs.budget = ns_.queue_budget();
    for (size_t i = 0; i < queue_.size(); ++i) rs.queued_bytes += queued_cost(*queue_[i].message);
    rs.budget->add(static_cast<int64_t>(queue_.size()), rs.queued_bytes);
  }
  for (uint16_t id : r.incoming_qos2) rare().incoming_qos2.insert(id);
  if (r.will) {
    rare().pending_will = Will{std::move(r.will), nullptr};
    rare_->pending_will_due = now + (r.will_due_wall_ms - wall);
  }
}

}  // namespace sluice::broker
