#include "broker/namespace.hpp"

#include "broker/access.hpp"
#include "broker/clock.hpp"

namespace sluice::broker {

ClusterSeams ClusterSeams::single_node() {
  return ClusterSeams{std::make_shared<LocalBus>(), std::make_shared<LocalSessionDirectory>(),
                      [](std::string_view) { return std::make_unique<RetainedStore>(); }};
}

Namespace::Namespace(std::string id, NamespaceConfig cfg, const ClusterSeams& seams)
    : id_(std::move(id)), retained_(seams.retained(id_)), bus_(seams.bus), directory_(seams.directory) {
  configs_.push_back(std::make_unique<const NamespaceConfig>(cfg));
  config_.store(configs_.back().get(), std::memory_order_release);
}

void Namespace::set_config(const NamespaceConfig& cfg) {
  std::lock_guard lock(config_mu_);
  if (*config_.load(std::memory_order_acquire) == cfg) return;
  configs_.push_back(std::make_unique<const NamespaceConfig>(cfg));
  config_.store(configs_.back().get(), std::memory_order_release);
}

Namespace::~Namespace() {
  std::lock_guard lock(sessions_mu_);
  for (auto& [cid, s] : sessions_) end_session_locked(s);
}

void Namespace::end_session_locked(const SessionPtr& s) {
  {
    std::unique_lock trie_lock(trie_.mutex());
    for (const auto& f : s->subscription_filters())
      if (trie_.unsubscribe(s.get(), f)) bus_->interest_removed(*this, f);
  }
  s->mark_ended();
  directory_->release(id_, s->client_id(), s->epoch());
}

void Namespace::add_session_locked(const SessionPtr& s) {
  // The key views the session's id: a replaced entry goes with its old session.
  if (auto it = sessions_.find(std::string_view(s->client_id())); it != sessions_.end()) {
    by_serial_.erase(it->second->serial());
    sessions_.erase(it);
  }
  sessions_.emplace(std::string_view(s->client_id()), s);
  by_serial_[s->serial()] = s.get();
}

void Namespace::forget_session_locked(SessionMap::iterator it) {
  by_serial_.erase(it->second->serial());
  sessions_.erase(it);
}

Namespace::Attached Namespace::connect(std::string_view client_id, bool clean_start, Client* c,
                                       int64_t now) {
  Attached r;
  std::lock_guard lock(sessions_mu_);
  // On one node the claim is always granted here. A cluster directory orders
  // claims cluster-wide; made under the session lock, this node's claims of
  // one client id go out in the order its takeovers happen here.
  const SessionDirectory::Claim claim = directory_->claim(id_, client_id, !clean_start);
  r.epoch = claim.epoch;
  auto it = sessions_.find(client_id);
  if (it != sessions_.end()) {
    SessionPtr old = it->second;
    if (!clean_start && !old->ended()) {
      r.previous = old->attach(c);
      old->set_epoch(claim.epoch);
      r.session = old;
      r.session_present = true;
      return r;
    }
    r.ended_will = old->take_pending_will(now, true);  // before attach(), which would cancel it
    r.previous = old->attach(nullptr);
    end_session_locked(old);
    forget_session_locked(it);
  }
  auto s = std::make_shared<Session>(*this, std::string(client_id), next_serial_.fetch_add(1));
  s->set_epoch(claim.epoch);
  // A cluster may hold this client's persistent session elsewhere (another
  // node, or one that died): it resumes here with its subscriptions, and its
  // deliveries wait until the messages it missed are read back (never on one node).
  std::optional<SessionDirectory::Resumable> resumed = directory_->resumable(id_, client_id, clean_start);
  if (resumed) {
    s->hold();
    s->adopt_qos2(resumed->incoming_qos2, resumed->released, resumed->sent);
    std::unique_lock trie_lock(trie_.mutex());
    for (const auto& [filter, o] : resumed->subscriptions)
      if (trie_.subscribe(s.get(), filter, o)) bus_->interest_added(*this, filter);
  }
  s->attach(c);
  add_session_locked(s);
  if (resumed) {
    for (const auto& [filter, o] : resumed->subscriptions) s->remember_subscription(filter, o);
    r.session_present = true;
    directory_->resume(*this, s);
  }
  r.session = std::move(s);
  return r;
}

bool Namespace::evict(std::string_view client_id, uint64_t epoch, bool resumed, WorkerContext& ctx) {
  Will will;
  {
    std::lock_guard lock(sessions_mu_);
    auto it = sessions_.find(client_id);
    if (it == sessions_.end() || it->second->epoch() > epoch) return false;
    SessionPtr s = it->second;
    // A delayed will goes out if the session ends here, and is cancelled
    // (its records dropped) if it goes on on the other node.
    will = s->take_pending_will(now_ms(), true);
    if (resumed) {
      will = {};
      s->mark_moved();  // the kicked connection's delayed will is cancelled too (disconnect)
    }
    s->attach(nullptr);  // kicks its connection (0x8E), whose own will then goes out as on a takeover
    end_session_locked(s);
    forget_session_locked(it);
  }
  if (will) publish_will(will, ctx);
  return true;
}

void Namespace::publish_will(const Will& will, WorkerContext& ctx) {
  if (will.allowed()) publish(will.message, ctx);
}

void Namespace::disconnect(const SessionPtr& s, Client* c, Will will, uint32_t will_delay_s, WorkerContext& ctx) {
  const int64_t now = now_ms();
  if (!s->detach(c, now)) {
    // Taken over: this connection closed without a DISCONNECT, so its will goes
    // out unless delayed (the new connection to the session cancels a delay).
    // A session that moved to another node goes on there: a delayed will is cancelled.
    if (will && (will_delay_s == 0 || (s->ended() && !s->moved()))) publish_will(will, ctx);
    return;
  }
  bool ends = false;
  {
    std::lock_guard lock(sessions_mu_);
    if (s->expiry_interval() == 0 || s->ended()) {
      auto it = sessions_.find(s->client_id());
      if (it != sessions_.end() && it->second == s) forget_session_locked(it);
      end_session_locked(s);
      ends = true;
    } else if (will && will_delay_s > 0) {
      s->set_pending_will(std::move(will), now + int64_t(will_delay_s) * 1000);
      will = {};
      offline_.push_back(s);
    } else if (s->expiry_interval() != 0xFFFFFFFF) {
      offline_.push_back(s);
    }
  }
  (void)ends;
  if (will) publish_will(will, ctx);
}

namespace {
// "<parent>/p2p/<clientId>" -> clientId; "" when the topic is not a P2P topic.
std::string_view p2p_target(std::string_view topic) {
  const size_t slash = topic.find('/');
  if (slash == std::string_view::npos || topic.compare(slash, 5, "/p2p/") != 0) return {};
  return topic.substr(slash + 5);
}
}  // namespace

Namespace::MessageCounts Namespace::message_counts() const {
  MessageCounts c;
  for (unsigned i = 0; i < kCountSlots; ++i) {
    c.in += counts_[i].in.load(std::memory_order_relaxed);
    c.out += counts_[i].out.load(std::memory_order_relaxed);
    c.denied += counts_[i].denied.load(std::memory_order_relaxed);
  }
  return c;
}

void Namespace::publish(const MessagePtr& m, WorkerContext& ctx) {
  // Single writer per slot: a relaxed load+store, no locked instruction.
  CountSlot& slot = counts_[ctx.id() % kCountSlots];
  WorkerStats::add(slot.in);
  if (Observer* o = observer()) [[unlikely]] o->published(*this, m, ctx);  // rules (issue 19)
  // ApsaraMQ P2P (SPEC §1; switched on per namespace by src/mq): delivered to the
  // named client's session only, never retained, no subscription needed.
  const NamespaceConfig& cfg = config();
  // A message the bus brings back (a cluster's logged QoS 1/2) is routed when
  // it comes back, P2P included, on every node alike.
  const bool loops_back = bus_->loops_back(*m);
  if (cfg.p2p_topics && !loops_back) {
    if (std::string_view target = p2p_target(m->topic); !target.empty()) {
      if (!deliver_p2p(target, m, ctx)) bus_->forward_p2p(*this, target, m, ctx);
      return;
    }
  }
  if (m->retain && cfg.retain_available) {
    retained_->set(m);
    if (persist_) {
      PersistRecord r{m->payload.empty() ? PersistRecord::Kind::RetainedCleared
                                         : PersistRecord::Kind::RetainedSet};
      r.ns = id_;
      r.text = m->topic;
      if (!m->payload.empty()) r.message = m;
      ctx.note_ticket(persist_->submit(std::move(r)));
    }
  }
  if (!loops_back) route_local(m, ctx);
  bus_->forward(*this, m, ctx);
}

bool Namespace::deliver_p2p(std::string_view target, const MessagePtr& m, WorkerContext& ctx) {
  SessionPtr s = find_session(target);
  if (!s) return false;
  SubOptions o;
  o.qos = m->qos;
  s->deliver(m, o, ctx);
  WorkerStats::add(counts_[ctx.id() % kCountSlots].out);
  return true;
}

void Namespace::publish_local(const MessagePtr& m, WorkerContext& ctx) {
  if (config().p2p_topics)
    if (std::string_view target = p2p_target(m->topic); !target.empty()) {
      deliver_p2p(target, m, ctx);  // not here: another node has it, or nobody
      return;
    }
  route_local(m, ctx);
}

void Namespace::route_local(const MessagePtr& m, WorkerContext& ctx) {
  uint64_t routed = 0;
  {
    std::shared_lock lock(trie_.mutex());
    auto deliver = [&](Session* s, const SubOptions& o) {
      s->deliver(m, o, ctx);
      ++routed;
    };
    if (bus_->traits().picks_shared)
      trie_.match_groups(m->topic, deliver,
                         [&](std::string_view group, std::string_view filter) {
                    return bus_->serves_shared(*this, group, filter, *m);
                  });
    else
      trie_.match(m->topic, deliver);
  }
  if (routed) WorkerStats::add(counts_[ctx.id() % kCountSlots].out, routed);
}

bool Namespace::deliver_to_group(const MessagePtr& m, std::string_view group, std::string_view filter,
                                 WorkerContext& ctx) {
  uint64_t routed = 0;
  {
    std::shared_lock lock(trie_.mutex());
    trie_.match_groups(
        m->topic,
        [&](Session* s, const SubOptions& o) {
          if (!o.shared) return;  // the other subscriptions had it when it was routed
          s->deliver(m, o, ctx);
          ++routed;
        },
        [&](std::string_view g, std::string_view f) { return g == group && f == filter; });
  }
  if (routed) WorkerStats::add(counts_[ctx.id() % kCountSlots].out, routed);
  return routed != 0;
}

void Namespace::arrive(RemoteDelivery& d, const SessionPtr& hint, WorkerContext& ctx) {
  SessionPtr s = hint && hint->serial() == d.session.serial ? hint : find_session(d.session.serial);
  if (s) return s->deliver(d.message, d.options, ctx, d.pseq);
  // The session ended while the hand-over was on its way: nothing waits for the message.
  if (d.pseq && persist_) {
    PersistRecord r{PersistRecord::Kind::MessageDone};
    r.seq = d.pseq;
    persist_->submit(std::move(r));
  }
}

bool Namespace::subscribe(const SessionPtr& s, std::string_view filter, const SubOptions& o) {
  bool is_new;
  {
    // Under the session lock of the namespace so that a session ended
    // concurrently (takeover with clean start) never leaves a filter behind.
    std::lock_guard lock(sessions_mu_);
    if (s->ended()) return false;
    std::unique_lock trie_lock(trie_.mutex());
    is_new = trie_.subscribe(s.get(), filter, o);
    if (is_new) bus_->interest_added(*this, filter);
  }
  s->remember_subscription(filter, o);
  return is_new;
}

bool Namespace::unsubscribe(const SessionPtr& s, std::string_view filter) {
  bool found;
  {
    std::unique_lock trie_lock(trie_.mutex());
    found = trie_.unsubscribe(s.get(), filter);
    if (found) bus_->interest_removed(*this, filter);
  }
  s->forget_subscription(filter);
  return found;
}

void Namespace::send_retained(const SessionPtr& s, std::string_view filter, const SubOptions& o,
                              WorkerContext& ctx) {
  if (!config().retain_available) return;
  for (const auto& m : retained_->match(filter, now_ms())) s->deliver_retained(m, o, ctx);
}

uint64_t Namespace::arm_will(std::string_view client_id, const MessagePtr& will, uint32_t delay_s,
                             const ClientAccess* who) {
  if (!persist_) return 0;
  PersistRecord r{PersistRecord::Kind::WillArmed};
  r.key = persist_->new_session_key();
  r.ns = id_;
  r.client_id = client_id;
  r.message = will;
  r.expiry_s = delay_s;
  if (who && persist_->wants_will_identity()) r.text = who->identity();  // a cluster re-checks it (cluster/wills.cpp)
  const uint64_t key = r.key;
  persist_->submit(std::move(r));
  return key;
}

void Namespace::disarm_will(uint64_t key) {
  if (!persist_ || key == 0) return;
  PersistRecord r{PersistRecord::Kind::WillDisarmed};
  r.key = key;
  persist_->submit(std::move(r));
}

void Namespace::housekeeping(int64_t now, WorkerContext& ctx) {
  std::vector<Will> wills;
  {
    std::lock_guard lock(sessions_mu_);
    size_t keep = 0;
    for (size_t i = 0; i < offline_.size(); ++i) {
      SessionPtr s = offline_[i].lock();
      if (!s || s->ended() || s->online()) continue;  // gone, or back online: forget it
      const uint32_t exp = s->expiry_interval();
      const bool expired = exp != 0xFFFFFFFF && now >= s->disconnected_at() + int64_t(exp) * 1000;
      if (auto w = s->take_pending_will(now, expired)) wills.push_back(std::move(w));
      if (expired) {
        auto it = sessions_.find(s->client_id());
        if (it != sessions_.end() && it->second == s) forget_session_locked(it);
        end_session_locked(s);
        continue;
      }
      offline_[keep++] = offline_[i];
    }
    offline_.resize(keep);
  }
  for (auto& w : wills) publish_will(w, ctx);
}

SessionPtr Namespace::find_session(std::string_view client_id) {
  std::lock_guard lock(sessions_mu_);
  auto it = sessions_.find(client_id);
  return it == sessions_.end() ? nullptr : it->second;
}

SessionPtr Namespace::find_session(uint64_t serial) {
  std::lock_guard lock(sessions_mu_);
  auto it = by_serial_.find(serial);
  return it == by_serial_.end() ? nullptr : it->second->shared_from_this();
}

std::vector<SessionPtr> Namespace::sessions() {
  std::lock_guard lock(sessions_mu_);
  std::vector<SessionPtr> out;
  out.reserve(sessions_.size());
  for (auto& [id, s] : sessions_) out.push_back(s);
  return out;
}

size_t Namespace::session_count() {
  std::lock_guard lock(sessions_mu_);
  return sessions_.size();
}

}  // namespace sluice::broker
