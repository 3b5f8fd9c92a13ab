#include "broker/session.hpp"

#include <algorithm>

#include "broker/clock.hpp"
#include "broker/namespace.hpp"

namespace sluice::broker {

Session::Session(Namespace& ns, std::string client_id, uint64_t serial)
    : ns_(ns), client_id_(std::move(client_id)), serial_(serial) {}

int64_t Session::queued_cost(const Message& m) { return static_cast<int64_t>(m.footprint() + sizeof(Queued)); }

Session::~Session() {
  if (rare_ && rare_->budget) rare_->budget->add(-static_cast<int64_t>(queue_.size()), -rare_->queued_bytes);
}

void Session::pop_queued_locked() {
  const int64_t cost = queued_cost(*queue_.front().message);
  queue_.pop_front();
  rare_->queued_bytes -= cost;  // rare_ exists: enqueue_locked / restore made it
  rare_->budget->add(-1, -cost);
}

void Session::drop_queued_locked(uint64_t pseq, WorkerContext& ctx) {
  ++dropped_;
  WorkerStats::add(ctx.stats().dropped);
  persist_done(pseq);
}

void Session::deliver(const MessagePtr& m, const SubOptions& o, WorkerContext& ctx, uint64_t pseq) {
  if (o.no_local && m->origin == serial_) return;
  const uint8_t qos = std::min(m->qos, o.qos);
  const bool retain = o.retain_as_published && m->retain;
  std::unique_lock lock(mu_);
  // Cluster: the replay from the log already brought this one (never on one node).
  if (pseq == 0 && m->log_seq != 0 && rare_ && m->log_seq <= rare_->replayed_upto && replayed_locked(m->log_seq, o))
    return;
  // Recorded here, on the publisher's thread, so that its PUBACK can wait for it.
  if (pseq == 0 && qos > 0 && store_key_ != 0 && !ended_) pseq = persist_queued_locked(m, qos, retain, o, ctx);
  if (rare_ && rare_->holding) {
    rare_->held.push_back(Held{m, o, pseq});
    return;
  }
  if (client_) {
    const unsigned w = client_->worker();
    if (w == ctx.id()) {
      deliver_locked(m, qos, retain, o.subscription_id, ctx, pseq);
    } else {
      // Everything from client_ is read before the lock goes: once it is
      // released, a takeover or a disconnect on another loop may clear it.
      SessionKey key{&ns_, serial_, client_->id()};
      lock.unlock();
      ctx.defer(w, RemoteDelivery{std::move(key), m, o, pseq});
    }
    return;
  }
  if (ended_ || expiry_interval_ == 0) return persist_done(pseq);
  if (qos == 0 && !ns_.config().queue_qos0_offline) return;
  enqueue_locked(m, qos, retain, o.subscription_id, ctx, pseq);
}

void Session::hold() {
  std::lock_guard lock(mu_);
  rare().holding = true;
}

bool Session::replayed_locked(uint64_t log_seq, const SubOptions& o) const {
  return !o.shared || std::binary_search(rare_->replayed_shared.begin(), rare_->replayed_shared.end(), log_seq);
}

void Session::finish_replay(uint64_t upto, const std::vector<std::pair<MessagePtr, SubOptions>>& replay,
                            WorkerContext& ctx) {
  std::vector<Held> held;
  {
    std::lock_guard lock(mu_);
    Rare& r = rare();
    r.holding = false;
    held.swap(r.held);
    r.replayed_shared.clear();
    for (const auto& [m, o] : replay)
      if (o.shared) r.replayed_shared.push_back(m->log_seq);
    std::sort(r.replayed_shared.begin(), r.replayed_shared.end());
  }
  for (const auto& [m, o] : replay)
    if (!resend_adopted(m, o, ctx)) deliver(m, o, ctx);
  {
    std::lock_guard lock(mu_);
    rare().replayed_upto = std::max(rare_->replayed_upto, upto);
    if (rare_->reserved != 0) {
      // Adopted as sent but not in the replay (gone from the log): the ids are free again.
      for (size_t i = 0; i < inflight_.size();)
        if (inflight_[i].qos == 0) inflight_.erase_at(i);
        else ++i;
      rare_->reserved = 0;
      pump_locked(ctx);
    }
  }
  for (auto& h : held) {
    bool brought;
    {
      std::lock_guard lock(mu_);
      brought = h.message->log_seq != 0 && h.message->log_seq <= upto && replayed_locked(h.message->log_seq, h.options);
    }
    if (brought) {
      if (h.pseq) persist_done(h.pseq);
      continue;
    }
    deliver(h.message, h.options, ctx, h.pseq);
  }
}

void Session::adopt_qos2(const std::vector<uint16_t>& incoming,
                         const std::vector<std::pair<uint16_t, uint64_t>>& released,
                         const std::vector<std::pair<uint16_t, uint64_t>>& sent) {
  std::lock_guard lock(mu_);
  for (uint16_t id : incoming) rare().incoming_qos2.insert(id);
  for (const auto& [id, log_seq] : released) {
    // Only the id travels from here on (as after on_pubrec); the stand-in
    // carries the log sequence for the records set_expiry_interval writes.
    auto stub = std::make_shared<Message>();
    stub->qos = 2;
    stub->log_seq = log_seq;
    inflight_.push_back(Inflight{id, std::move(stub), 2, false, true, 0, 0, 0});
    next_id_ = id;
  }
  for (const auto& [id, log_seq] : sent) {
    // The id is taken from now on; the body comes with the replay (qos 0
    // marks the stand-in: resume() and the acknowledgements pass it by).
    auto stub = std::make_shared<Message>();
    stub->log_seq = log_seq;
    inflight_.push_back(Inflight{id, std::move(stub), 0, false, false, 0, 0, 0});
    next_id_ = id;
    ++rare().reserved;
  }
  if (!released.empty() || !sent.empty()) id_seq_ = 65535;  // next_packet_id_locked() scans past these ids (as restore)
}

bool Session::resend_adopted(const MessagePtr& m, const SubOptions& o, WorkerContext& ctx) {
  std::lock_guard lock(mu_);
  if (!rare_ || rare_->reserved == 0 || m->log_seq == 0) return false;
  const size_t i =
      inflight_.find_if([&m](const Inflight& f) { return f.qos == 0 && f.message->log_seq == m->log_seq; });
  if (i == inflight_.size()) return false;
  --rare_->reserved;
  const uint8_t qos = std::min(m->qos, o.qos);
  if (qos == 0 || m->expired(now_ms()) || (client_ && !client_->may_receive(*m))) {
    inflight_.erase_at(i);
    return qos != 0;  // QoS 0 now: delivered as such; otherwise dropped as deliver_locked would
  }
  Inflight& f = inflight_[i];
  f.message = m;
  f.qos = qos;
  f.retain = o.retain_as_published && m->retain;
  f.subscription_id = o.subscription_id;
  // This node's records of it, under the same id (a further move carries it again).
  if (store_key_ != 0 && !ended_) {
    f.pseq = persist_queued_locked(m, qos, f.retain, o, ctx);
    persist_msg(PersistRecord::Kind::MessageSent, f.pseq, f.id);
  }
  if (client_ && client_->worker() == ctx.id()) client_->send_publish(*m, qos, f.id, f.retain, true, f.subscription_id);
  else if (client_) rare_->resend_due.push_back(f.id);  // on the client's loop: send_adopted
  return true;
}

std::optional<unsigned> Session::adopted_resend_worker() {
  std::lock_guard lock(mu_);
  if (!rare_ || rare_->resend_due.empty() || !client_) return std::nullopt;
  return client_->worker();
}

void Session::send_adopted(WorkerContext& ctx) {
  std::lock_guard lock(mu_);
  // Not this loop's client any more: the next resume() sends them (they are in flight).
  if (!rare_ || !client_ || client_->worker() != ctx.id()) return;
  for (uint16_t id : rare_->resend_due) {
    const size_t i = find_inflight(id);
    if (i == inflight_.size()) continue;  // acknowledged meanwhile
    const Inflight& f = inflight_[i];
    if (f.qos != 0 && !f.released && f.message)
      client_->send_publish(*f.message, f.qos, f.id, f.retain, true, f.subscription_id);
  }
  rare_->resend_due.clear();
  pump_locked(ctx);  // what the replay brought after them, queued meanwhile
}

void Session::deliver_retained(const MessagePtr& m, const SubOptions& o, WorkerContext& ctx) {
  const uint8_t qos = std::min(m->qos, o.qos);
  std::lock_guard lock(mu_);
  if (client_ && client_->worker() == ctx.id()) deliver_locked(m, qos, true, o.subscription_id, ctx, 0);
}

void Session::deliver_locked(const MessagePtr& m, uint8_t qos, bool retain, uint32_t sub_id,
                             WorkerContext& ctx, uint64_t pseq) {
  if (!client_->may_receive(*m)) return persist_done(pseq);
  if (m->expiry_at_ms != 0 && m->expired(now_ms())) {
    ++dropped_;
    WorkerStats::add(ctx.stats().dropped);
    persist_done(pseq);
    return;
  }
  if (qos == 0) {
    if (client_->congested() || !client_->send_publish(*m, 0, 0, retain, false, sub_id)) {
      ++dropped_;
      WorkerStats::add(ctx.stats().dropped);
    }
    return;
  }
  // (Cluster: messages adopted as sent wait for send_adopted on this loop: what comes
  // after them waits in the queue so that they go out first.)
  if (!queue_.empty() || inflight_.size() >= window_locked() || client_->congested() ||
      (rare_ && !rare_->resend_due.empty())) {
    enqueue_locked(m, qos, retain, sub_id, ctx, pseq);
    return;
  }
  if (!send_new_locked(m, qos, retain, sub_id, pseq)) {
    ++dropped_;
    WorkerStats::add(ctx.stats().dropped);
    persist_done(pseq);
  }
}

bool Session::send_new_locked(const MessagePtr& m, uint8_t qos, bool retain, uint32_t sub_id,
                              uint64_t pseq) {
  const uint16_t id = next_packet_id_locked();
  if (!client_->send_publish(*m, qos, id, retain, false, sub_id)) return false;
  inflight_.push_back(Inflight{id, m, qos, retain, false, sub_id, id_seq_, pseq});
  // QoS 2 must resend under the same id after a restart (the client may hold it);
  // a cluster keeps QoS 1's too (the session may move to a node that resends it).
  if (pseq != 0 && (qos == 2 || ns_.persistence()->keeps_qos1_ids()))
    persist_msg(PersistRecord::Kind::MessageSent, pseq, id);
  return true;
}

void Session::enqueue_locked(const MessagePtr& m, uint8_t qos, bool retain, uint32_t sub_id,
                             WorkerContext& ctx, uint64_t pseq) {
  const NamespaceConfig& cfg = ns_.config();
  const int64_t cost = queued_cost(*m);
  const auto byte_cap = static_cast<int64_t>(cfg.max_queued_bytes);
  if (cfg.max_queued_messages == 0 || (byte_cap && cost > byte_cap)) return drop_queued_locked(pseq, ctx);
  Rare& r = rare();
  if (!r.budget) r.budget = ns_.queue_budget();
  // This session's own bounds (count and bytes): the oldest messages make room.
  while (!queue_.empty() && (queue_.size() >= cfg.max_queued_messages ||
                             (byte_cap && r.queued_bytes + cost > byte_cap))) {
    const uint64_t old = queue_.front().pseq;
    pop_queued_locked();
    drop_queued_locked(old, ctx);
  }
  // Shared bounds (the namespace's message cap, the server's memory): the new
  // message is refused and the queues keep what they hold. Checked without a
  // lock across sessions, so concurrent enqueues may pass a bound by a few.
  QueueBudget* full = nullptr;
  if (cfg.max_queued_total && r.budget->queued.load(std::memory_order_relaxed) >= static_cast<int64_t>(cfg.max_queued_total))
    full = r.budget.get();
  else
    full = r.budget->over_bytes(cost);
  if (full) {
    full->refused.fetch_add(1, std::memory_order_relaxed);
    return drop_queued_locked(pseq, ctx);
  }
  queue_.push_back(Queued{m, qos, retain, sub_id, pseq});
  r.queued_bytes += cost;
  r.budget->add(1, cost);
}

uint64_t Session::persist_queued_locked(const MessagePtr& m, uint8_t qos, bool retain,
                                        const SubOptions& o, WorkerContext& ctx) {
  Persistence* p = ns_.persistence();
  if (!p) return 0;
  PersistRecord r{PersistRecord::Kind::MessageQueued};
  r.key = store_key_;
  r.message = m;
  r.qos = qos;
  r.retain = retain;
  r.options.subscription_id = o.subscription_id;
  r.options.shared = o.shared;  // a cluster hands a share over with the session
  const uint64_t t = p->submit(std::move(r));
  ctx.note_ticket(t);
  return t;
}

void Session::persist_msg(PersistRecord::Kind kind, uint64_t pseq, uint16_t packet_id) {
  if (pseq == 0) return;
  if (Persistence* p = ns_.persistence()) {
    PersistRecord r{kind};
    r.seq = pseq;
    r.packet_id = packet_id;
    p->submit(std::move(r));
  }
}

void Session::persist_done(uint64_t pseq) { persist_msg(PersistRecord::Kind::MessageDone, pseq, 0); }

size_t Session::window_locked() const {
  return std::min<size_t>(ns_.config().max_inflight, client_->receive_maximum());
}

uint16_t Session::next_packet_id_locked() {
  for (;;) {
    if (++next_id_ == 0) next_id_ = 1;
    ++id_seq_;
    // In-flight ids are in allocation order. The counter can only reach a
    // live id after going all the way round since the oldest one; until
    // then no scan is needed.
    if (inflight_.empty() || id_seq_ - inflight_.front().seq < 65535) return next_id_;
    if (find_inflight(next_id_) == inflight_.size()) return next_id_;
  }
}

size_t Session::find_inflight(uint16_t id) {
  // Acknowledgements nearly always arrive in order: the front is the usual hit.
  return inflight_.find_if([id](const Inflight& f) { return f.id == id; });
}

void Session::pump_locked(WorkerContext& ctx) {
  // Only the client's own thread writes to it (a connection being taken over
  // may still ack on its old thread).
  if (!client_ || client_->worker() != ctx.id()) return;
  if (rare_ && !rare_->resend_due.empty()) return;  // cluster: send_adopted goes first
  const int64_t now = now_ms();
  const size_t window = window_locked();
  while (!queue_.empty() && !client_->congested()) {
    Queued& q = queue_.front();
    if (!client_->may_receive(*q.message)) {  // queued for a principal with other rights
      persist_done(q.pseq);
      pop_queued_locked();
      continue;
    }
    if (q.message->expired(now)) {
      ++dropped_;
      WorkerStats::add(ctx.stats().dropped);
      persist_done(q.pseq);
      pop_queued_locked();
      continue;
    }
    if (q.qos == 0) {
      if (!client_->send_publish(*q.message, 0, 0, q.retain, false, q.subscription_id)) ++dropped_;
    } else {
      if (inflight_.size() >= window) break;
      if (!send_new_locked(q.message, q.qos, q.retain, q.subscription_id, q.pseq)) {
        ++dropped_;
        persist_done(q.pseq);
      }
    }
    pop_queued_locked();
  }
}

void Session::pump(WorkerContext& ctx) {
  std::lock_guard lock(mu_);
  pump_locked(ctx);
}

Client* Session::attach(Client* c) {
  std::lock_guard lock(mu_);
  Client* old = client_;
  // Kick the replaced connection while holding the lock: once client_ moves on,
  // the old connection may close and be destroyed on its own thread at any
  // moment, so nobody may touch it after this critical section.
  if (old && old != c) old->kick(mqtt::Reason::SessionTakenOver);
  if (!old != !c) ns_.add_online(c ? 1 : -1);
  client_ = c;
  online_.store(c != nullptr, std::memory_order_relaxed);
  if (rare_ && rare_->pending_will) {
    drop_will_records_locked();
    rare_->pending_will = {};  // a new connection to the session cancels a delayed will
  }
  return old;
}

bool Session::detach(Client* c, int64_t now) {
  std::lock_guard lock(mu_);
  if (client_ != c) return false;
  client_ = nullptr;
  ns_.add_online(-1);
  online_.store(false, std::memory_order_relaxed);
  disconnected_at_ = now;
  if (store_key_ != 0)
    if (Persistence* p = ns_.persistence()) {
      PersistRecord r{PersistRecord::Kind::SessionOffline};
      r.key = store_key_;
      r.wall_ms = wall_ms();
      p->submit(std::move(r));
    }
  return true;
}

bool Session::is_client(const Client* c) {
  std::lock_guard lock(mu_);
  return client_ == c;
}

void Session::resume(WorkerContext& ctx) {
  std::lock_guard lock(mu_);
  if (!client_ || client_->worker() != ctx.id()) return;
  const int64_t now = now_ms();
  if (rare_) rare_->resend_due.clear();  // sent here, with the others
  for (size_t i = 0; i < inflight_.size();) {
    Inflight& f = inflight_[i];
    if (f.qos == 0) {  // adopted as sent (cluster): its body comes with the replay
      ++i;
      continue;
    }
    if (f.released) {
      client_->send_pubrel(f.id);
    } else if (f.message->expired(now) || !client_->may_receive(*f.message)) {
      if (f.message->expired(now)) ++dropped_;
      persist_done(f.pseq);
      inflight_.erase_at(i);
      continue;
    } else {
      client_->send_publish(*f.message, f.qos, f.id, f.retain, true, f.subscription_id);
    }
    ++i;
  }
  pump_locked(ctx);
}

bool Session::on_puback(uint16_t id, WorkerContext& ctx) {
  std::lock_guard lock(mu_);
  const size_t i = find_inflight(id);
  if (i == inflight_.size() || inflight_[i].qos != 1) return false;
  persist_done(inflight_[i].pseq);
  inflight_.erase_at(i);
  pump_locked(ctx);
  return true;
}

bool Session::on_pubrec(uint16_t id, bool failed, WorkerContext& ctx) {
  std::lock_guard lock(mu_);
  const size_t i = find_inflight(id);
  if (i == inflight_.size() || inflight_[i].qos != 2) return false;
  if (failed) {  // the receiver refused it: the flow ends here
    persist_done(inflight_[i].pseq);
    inflight_.erase_at(i);
    pump_locked(ctx);
    return true;
  }
  inflight_[i].released = true;
  persist_msg(PersistRecord::Kind::MessageReleased, inflight_[i].pseq, id);
  inflight_[i].message.reset();  // no longer needed: only the id travels from here on
  if (client_ && client_->worker() == ctx.id()) client_->send_pubrel(id);
  return true;
}

bool Session::on_pubcomp(uint16_t id, WorkerContext& ctx) {
  std::lock_guard lock(mu_);
  const size_t i = find_inflight(id);
  if (i == inflight_.size() || !inflight_[i].released) return false;
  persist_done(inflight_[i].pseq);
  inflight_.erase_at(i);
  pump_locked(ctx);
  return true;
}

bool Session::incoming_qos2_seen(uint16_t id) {
  std::lock_guard lock(mu_);
  return rare_ && rare_->incoming_qos2.count(id) != 0;
}

uint64_t Session::incoming_qos2_store(uint16_t id) {
  std::lock_guard lock(mu_);
  rare().incoming_qos2.insert(id);
  Persistence* p = store_key_ != 0 ? ns_.persistence() : nullptr;
  if (!p) return 0;
  PersistRecord r{PersistRecord::Kind::IncomingQos2};
  r.key = store_key_;
  r.packet_id = id;
  return p->submit(std::move(r));
}

bool Session::incoming_qos2_release(uint16_t id) {
  std::lock_guard lock(mu_);
  if (!rare_ || rare_->incoming_qos2.erase(id) == 0) return false;
  if (store_key_ != 0)
    if (Persistence* p = ns_.persistence()) {
      PersistRecord r{PersistRecord::Kind::IncomingQos2Done};
      r.key = store_key_;
      r.packet_id = id;
      p->submit(std::move(r));
    }
  return true;
}

size_t Session::incoming_qos2_count() {
  std::lock_guard lock(mu_);
  return rare_ ? rare_->incoming_qos2.size() : 0;
}

void Session::remember_subscription(std::string_view filter, const SubOptions& o) {
  std::lock_guard lock(mu_);
  auto it = subscriptions_.find(filter);
  if (it == subscriptions_.end())
    subscriptions_.emplace(std::string(filter), o);
  else
    it->second = o;
  if (store_key_ != 0 && !ended_)
    if (Persistence* p = ns_.persistence()) {
      PersistRecord r{PersistRecord::Kind::SubscriptionAdded};
      r.key = store_key_;
      r.text.assign(filter);
      r.options = o;
      p->submit(std::move(r));
    }
}

void Session::forget_subscription(std::string_view filter) {
  std::lock_guard lock(mu_);
  auto it = subscriptions_.find(filter);
  if (it == subscriptions_.end()) return;
  subscriptions_.erase(it);
  if (store_key_ != 0)
    if (Persistence* p = ns_.persistence()) {
      PersistRecord r{PersistRecord::Kind::SubscriptionRemoved};
      r.key = store_key_;
      r.text.assign(filter);
      p->submit(std::move(r));
    }
}

void Session::set_expiry_interval(uint32_t s) {
  std::lock_guard lock(mu_);
  expiry_interval_ = s;
  Persistence* p = ns_.persistence();
  if (!p || ended_ || (s == 0 && store_key_ == 0)) return;
  const bool fresh = store_key_ == 0;
  if (fresh) store_key_ = p->new_session_key();
  PersistRecord r{PersistRecord::Kind::SessionSaved};
  r.key = store_key_;
  r.ns = ns_.id();
  r.client_id = client_id_;
  r.expiry_s = s;
  r.seq = serial_;  // a cluster's No Local across nodes (cluster/sessions.cpp: origins)
  p->submit(std::move(r));
  if (!fresh) return;
  // Became persistent while holding subscriptions (a takeover with a new expiry).
  for (const auto& [f, o] : subscriptions_) {
    PersistRecord sr{PersistRecord::Kind::SubscriptionAdded};
    sr.key = store_key_;
    sr.text = f;
    sr.options = o;
    p->submit(std::move(sr));
  }
  // QoS 2 state this session brought from another node (adopt_qos2; never on one node):
  // an outgoing message waiting for PUBCOMP, and incoming ids waiting for PUBREL.
  for (size_t i = 0; i < inflight_.size(); ++i) {
    Inflight& f = inflight_[i];
    if (f.pseq != 0 || !f.released || !f.message) continue;
    PersistRecord q{PersistRecord::Kind::MessageQueued};
    q.key = store_key_;
    q.message = std::move(f.message);
    q.qos = 2;
    f.pseq = p->submit(std::move(q));
    persist_msg(PersistRecord::Kind::MessageReleased, f.pseq, f.id);
  }
  if (rare_)
    for (uint16_t id : rare_->incoming_qos2) {
      PersistRecord ir{PersistRecord::Kind::IncomingQos2};
      ir.key = store_key_;
      ir.packet_id = id;
      p->submit(std::move(ir));
    }
}

void Session::mark_ended() {
  std::lock_guard lock(mu_);
  ended_ = true;
  if (store_key_ != 0)
    if (Persistence* p = ns_.persistence()) {
      PersistRecord r{PersistRecord::Kind::SessionEnded};
      r.key = store_key_;
      p->submit(std::move(r));
    }
}

std::vector<std::string> Session::subscription_filters() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(subscriptions_.size());
  for (auto& [f, o] : subscriptions_) out.push_back(f);
  return out;
}

std::vector<std::pair<std::string, uint8_t>> Session::subscriptions_with_qos() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, uint8_t>> out;
  out.reserve(subscriptions_.size());
  for (auto& [f, o] : subscriptions_) out.emplace_back(f, o.qos);
  return out;
}

void Session::set_origin(std::string peer, bool clean_start) {
  std::lock_guard lock(mu_);
  peer_ = std::move(peer);
  clean_start_ = clean_start;
}

std::pair<std::string, bool> Session::origin() {
  std::lock_guard lock(mu_);
  return {peer_, clean_start_};
}

size_t Session::subscription_count() {
  std::lock_guard lock(mu_);
  return subscriptions_.size();
}

void Session::set_pending_will(Will will, int64_t due_ms) {
  std::lock_guard lock(mu_);
  Rare& rw = rare();
  rw.pending_will = std::move(will);
  rw.pending_will_due = due_ms;
  if (store_key_ != 0)
    if (Persistence* p = ns_.persistence()) {
      PersistRecord r{PersistRecord::Kind::WillScheduled};
      r.key = store_key_;
      r.ns = ns_.id();           // a cluster keeps it by instance and client id (cluster/wills.cpp)
      r.client_id = client_id_;
      r.seq = epoch();           // its claim: a survivor tells the client's comeback from it
      r.message = rw.pending_will.message;
      r.wall_ms = wall_ms() + (due_ms - now_ms());
      if (rw.pending_will.guard && p->wants_will_identity()) r.text = rw.pending_will.guard->identity();
      p->submit(std::move(r));
    }
}

void Session::set_recovered_will(MessagePtr will, int64_t due_ms, uint64_t armed_key) {
  std::lock_guard lock(mu_);
  Rare& r = rare();
  if (r.armed_will_key) ns_.disarm_will(r.armed_will_key);  // two were open (a takeover): the newer wins
  r.pending_will = Will{std::move(will), nullptr};
  r.pending_will_due = due_ms;
  r.armed_will_key = armed_key;
}

Will Session::take_pending_will(int64_t now, bool force) {
  std::lock_guard lock(mu_);
  if (!rare_ || !rare_->pending_will || (!force && now < rare_->pending_will_due)) return {};
  drop_will_records_locked();
  return std::move(rare_->pending_will);
}

void Session::drop_will_records_locked() {
  if (rare_ && rare_->armed_will_key) {
    ns_.disarm_will(rare_->armed_will_key);
    rare_->armed_will_key = 0;
  }
  if (store_key_ != 0)
    if (Persistence* p = ns_.persistence()) {
      PersistRecord r{PersistRecord::Kind::WillCancelled};
      r.key = store_key_;
      p->submit(std::move(r));
    }
}

size_t Session::queued() {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace sluice::broker
