#include "mq/client_access.hpp"

#include <mutex>

#include "iam/authorizer.hpp"
#include "mq/cert_auth.hpp"
#include "mq/mq_access.hpp"
#include "mq/mq_service.hpp"
#include "mq/portable_identity.hpp"
#include "mq/signature.hpp"
#include "store/changes.hpp"

namespace sluice::mq {

using mqtt::Reason;

MqClientAccess::MqClientAccess(MqAccessControl& ac, ClientFacts facts, std::unique_ptr<Credential> cred)
    : ac_(ac), mq_(*ac.mq()), f_(std::move(facts)), cred_(std::move(cred)), instance_rate_(ac.instance_rate(f_.instance_id)) {
  refresh();
  iam_gen_ = ac_.authz()->generation();
  mq_gen_ = mq_.generation();
}

MqClientAccess::MqClientAccess(const MqClientAccess& o)
    : broker::ClientAccess(), ac_(o.ac_), mq_(o.mq_), f_(o.f_), cred_(o.cred_->clone()), snapshot_(o.snapshot_),
      instance_rate_(o.instance_rate_) {}

MqClientAccess::~MqClientAccess() = default;

const InstanceState* MqClientAccess::instance() const { return snapshot_->instance(f_.instance_id); }

// The instance's limits are read once per snapshot, not per message.
void MqClientAccess::refresh() {
  snapshot_ = mq_.state();
  auto* i = instance();
  rate_max_ = i ? i->inst.settings.max_messages_per_second : 0;
  instance_rate_max_ = i ? i->inst.settings.max_instance_messages_per_second : 0;
}

void MqClientAccess::clear_caches() {
  pub_cache_.clear();
  last_valid_ = false;
  sub_cache_.clear();
  recv_cache_.clear();
  recent_.clear();
}

// "<parent>/p2p/<this client id>"
bool MqClientAccess::is_own_p2p(std::string_view topic) const {
  const size_t slash = topic.find('/');
  return slash != std::string_view::npos && topic.size() - slash == f_.client_id.size() + 5 &&
         topic.compare(slash, 5, "/p2p/") == 0 && topic.substr(slash + 5) == f_.client_id;
}

Reason MqClientAccess::authorize_publish(std::string_view topic, uint8_t qos, bool retain) {
  if (rate_limited())
    return deny("publish", topic, "message rate above the instance's limit of " + std::to_string(rate_max_) + "/s",
                Reason::MessageRateTooHigh);
  if (instance_rate_limited()) {
    // Quota exceeded, not Message rate too high: this client may be within its
    // own rate, so a QoS 0 message is dropped rather than its connection closed
    // (v5; MQTT 3.x cannot be told and is closed, as for the other limits).
    // Recorded once per second per client, as the per-client limit.
    const int64_t sec = mq_.now_ms() / 1000;
    if (sec == instance_rate_noted_) return Reason::QuotaExceeded;
    instance_rate_noted_ = sec;
    return deny("publish", topic,
                "message rate across the instance above its limit of " + std::to_string(instance_rate_max_) + "/s",
                Reason::QuotaExceeded);
  }
  // Fast path: a client usually publishes to the same topic again and again.
  if (last_valid_ && last_qos_ == qos && last_retain_ == retain && topic == last_topic_) return Reason::Success;
  key_.assign(topic);
  key_.push_back('\0');
  key_.push_back(static_cast<char>('0' + qos));
  key_.push_back(retain ? 'r' : '-');
  if (auto it = pub_cache_.find(key_); it != pub_cache_.end()) {
    if (it->second != Reason::Success) return deny("publish", topic, "denied (cached decision)", it->second);
    remember_last(topic, qos, retain);
    return Reason::Success;
  }
  std::string why;
  const Reason r = decide_publish(topic, qos, retain, &why);
  remember(pub_cache_, key_, r);
  if (r != Reason::Success) return deny("publish", topic, why, r);
  remember_last(topic, qos, retain);
  return Reason::Success;
}

Reason MqClientAccess::authorize_subscribe(std::string_view filter) {
  key_.assign(filter);
  if (auto it = sub_cache_.find(key_); it != sub_cache_.end()) {
    if (it->second != Reason::Success) return deny("subscribe", filter, "denied (cached decision)", it->second);
    return Reason::Success;
  }
  std::string why;
  const Reason r = decide_subscribe(filter, &why);
  remember(sub_cache_, key_, r);
  if (r != Reason::Success) return deny("subscribe", filter, why, r);
  return Reason::Success;
}

bool MqClientAccess::may_receive_slow(std::string_view topic) {
  if (is_own_p2p(topic)) return true;  // addressed to this client: no subscription involved (SPEC §1)
  key_.assign(topic);
  bool ok;
  if (auto it = recv_cache_.find(key_); it != recv_cache_.end()) {
    ok = it->second;
  } else {
    std::string why;
    auto* i = instance();
    ok = i && cred_->may_subscribe(f_, *i, topic, mq_.now_ms(), &why);
    if (!i) why = "the instance no longer exists";
    if (recv_cache_.size() >= 1024) recv_cache_.clear();
    recv_cache_.emplace(key_, ok);
    // Traced once per topic and cache lifetime (a second): the subscription
    // itself was granted, so this is a filter on delivery, not a refused request.
    if (!ok)
      ac_.trace(f_.instance_id,
                DeviceTrace{0, f_.client_id, "delivery_filtered", "message on " + key_ + ": " + why, f_.channel, f_.peer});
  }
  if (ok) recent_.add(topic);
  return ok;
}

// Decides a will when it goes out, with its own copy of the connection's
// access (the connection may be gone by then, and the guard may be asked on
// another loop than the connection's).
class MqWillGuard final : public broker::WillGuard {
 public:
  explicit MqWillGuard(const MqClientAccess& a) : access_(a) {}
  bool may_publish(const broker::Message& will) override {
    std::lock_guard lk(mu_);
    return access_.will_allowed(will);
  }
  std::string identity() const override { return access_.identity(); }

 private:
  std::mutex mu_;
  MqClientAccess access_;
};

std::shared_ptr<broker::WillGuard> MqClientAccess::will_guard() { return std::make_shared<MqWillGuard>(*this); }

std::string MqClientAccess::identity() const { return encode_identity(f_, cred_->portable()); }

std::shared_ptr<broker::WillGuard> revived_will_guard(MqAccessControl& ac, ClientFacts f,
                                                      std::unique_ptr<Credential> cred) {
  return std::make_shared<MqWillGuard>(MqClientAccess(ac, std::move(f), std::move(cred)));
}

// An identity this node cannot rebuild (deleted key, revoked token, unknown
// mode): the will is refused, and traced and audited as MqClientAccess does.
class RefusedWillGuard final : public broker::WillGuard {
 public:
  RefusedWillGuard(MqAccessControl& ac, ClientFacts f, std::string why) : ac_(ac), f_(std::move(f)), why_(std::move(why)) {}
  bool may_publish(const broker::Message& will) override {
    ac_.trace(f_.instance_id,
              DeviceTrace{0, f_.client_id, "will_denied", "will on " + will.topic + ": " + why_, f_.channel, f_.peer});
    AuditEvent e;
    e.time_ms = ac_.mq() ? ac_.mq()->now_ms() : 0;
    e.account_id = f_.account_id;
    e.instance_id = f_.instance_id;
    e.event = "mqtt.will.denied";
    e.principal = f_.key_id;
    e.client_id = f_.client_id;
    e.source_ip = f_.peer;
    e.resource = will.topic;
    e.reason = why_;
    ac_.audit(std::move(e));
    return false;
  }

 private:
  MqAccessControl& ac_;
  const ClientFacts f_;
  const std::string why_;
};

std::shared_ptr<broker::WillGuard> refused_will_guard(MqAccessControl& ac, ClientFacts f, std::string why) {
  return std::make_shared<RefusedWillGuard>(ac, std::move(f), std::move(why));
}

bool MqClientAccess::will_allowed(const broker::Message& will) {
  refresh();
  const int64_t now = mq_.now_ms();
  std::string why;
  Notices ignored;
  bool ok = cred_->still_valid(now, &why, ignored) && still_admitted(now, &why, ignored);
  if (ok) ok = decide_publish(will.topic, will.qos, will.retain, &why) == Reason::Success;
  if (!ok) {
    ac_.trace(f_.instance_id,
              DeviceTrace{0, f_.client_id, "will_denied", "will on " + will.topic + ": " + why, f_.channel, f_.peer});
    ac_.audit(event("mqtt.will.denied", will.topic, why));
  }
  return ok;
}

broker::ClientAccess::Check MqClientAccess::check(int64_t now_ms) {
  (void)now_ms;  // the broker's monotonic clock; credentials expire on the wall clock
  Check c;
  const int64_t now = mq_.now_ms();
  c.notices = std::move(pending_notices_);
  pending_notices_.clear();
  // The store out of reach: the decisions cached for this client stand (no
  // change can be heard meanwhile, nor is anything reloaded) for a bounded
  // time, after which the client is let go until the store is back.
  if (const int64_t grace = ac_.options().store_grace_ms; grace >= 0) {
    if (const int64_t since = mq_.store_lost_since_ms(); since != 0 && store::ChangeFeed::steady_ms() - since > grace) {
      c.reason = Reason::ServerBusy;
      c.why = "the control store has been out of reach for longer than " + std::to_string(grace / 1000) + " s";
      closing_reason_ = c.why;
      return c;
    }
  }
  if (!cred_->still_valid(now, &c.why, c.notices)) {
    // An STS key or a token ends its connections when it expires.
    c.reason = Reason::NotAuthorized;
    closing_reason_ = c.why;
    ac_.audit(event("mqtt.disconnect.revoked", "", c.why));
    return c;
  }
  if (now / 1000 != cache_second_) {
    // acs:CurrentTime is offered to policies: a cached decision lives one second at most.
    cache_second_ = now / 1000;
    clear_caches();
  }
  const uint64_t ig = ac_.authz()->generation();
  const uint64_t mg = mq_.generation();
  bool changed = false;
  if (mg != mq_gen_) {
    changed = true;
    mq_gen_ = mg;
  }
  if (ig != iam_gen_) {
    if (cred_->governed_by_iam()) changed |= ac_.authz()->account_changed_since(f_.account_id, iam_gen_);
    iam_gen_ = ig;
  }
  if (!changed) return c;
  refresh();
  clear_caches();
  if (mq_.take_close_request(f_.instance_id, f_.client_id)) {
    c.reason = Reason::AdministrativeAction;
    c.why = "closed by CloseConnection";
    closing_reason_ = c.why;
    return c;
  }
  std::string why;
  if (!still_admitted(now, &why, c.notices)) {
    c.reason = Reason::NotAuthorized;
    c.why = why;
    closing_reason_ = why;
    ac_.audit(event("mqtt.disconnect.revoked", "", why));
    return c;
  }
  c.rights_changed = true;
  return c;
}

bool MqClientAccess::on_system_publish(std::string_view topic, std::string_view payload) {
  auto r = cred_->on_system_publish(f_, topic, payload, mq_.now_ms());
  if (!r.handled) return false;
  for (auto& n : r.notices) pending_notices_.push_back(std::move(n));
  if (!r.refused.empty()) ac_.audit(event("mqtt.token.rejected", topic, r.refused));
  if (r.rights_changed) clear_caches();
  return true;
}

bool MqClientAccess::close_on_denied_publish() const {
  auto* i = instance();
  return !i || i->inst.settings.close_on_denied_publish;
}

void MqClientAccess::on_close(std::string_view why) {
  ac_.trace(f_.instance_id, DeviceTrace{0, f_.client_id, "disconnect",
                                        closing_reason_.empty() ? std::string(why) : closing_reason_, f_.channel,
                                        f_.peer});
  ac_.connection_closed(f_.instance_id);
}

void MqClientAccess::remember_last(std::string_view topic, uint8_t qos, bool retain) {
  last_topic_.assign(topic);
  last_qos_ = qos;
  last_retain_ = retain;
  last_valid_ = true;
}

void MqClientAccess::remember(std::unordered_map<std::string, Reason>& cache, const std::string& k, Reason r) {
  if (cache.size() >= 1024) cache.clear();  // bounded: a client cycling topics cannot grow it
  cache.emplace(k, r);
}

AuditEvent MqClientAccess::event(std::string name, std::string_view resource, std::string reason) const {
  AuditEvent e;
  e.time_ms = mq_.now_ms();
  e.account_id = f_.account_id;
  e.instance_id = f_.instance_id;
  e.event = std::move(name);
  e.principal = f_.key_id;
  e.client_id = f_.client_id;
  e.source_ip = f_.peer;
  e.resource = std::string(resource);
  e.reason = std::move(reason);
  return e;
}

// Traces and audits a refusal: a denial of rights (NotAuthorized) or a limit.
Reason MqClientAccess::deny(const char* op, std::string_view resource, const std::string& why, Reason r) {
  // Over the rate limit: recorded once per second, not once per message.
  if (r == Reason::MessageRateTooHigh && rate_count_ != rate_max_ + 1) return r;
  const bool limit = r != Reason::NotAuthorized;
  ac_.trace(f_.instance_id, DeviceTrace{0, f_.client_id, limit ? "limit_exceeded" : "topic_auth_failed",
                                        std::string(op) + " " + std::string(resource) + ": " + why, f_.channel,
                                        f_.peer});
  ac_.audit(event(std::string("mqtt.") + op + (limit ? ".limited" : ".denied"), resource, why));
  return r;
}

bool MqClientAccess::instance_rate_limited() {
  const uint32_t max = instance_rate_max_;
  if (!max || !instance_rate_) return false;
  const int64_t sec = mq_.now_ms() / 1000;
  InstanceRate& r = *instance_rate_;
  int64_t seen = r.second.load(std::memory_order_relaxed);
  if (seen != sec && r.second.compare_exchange_strong(seen, sec, std::memory_order_relaxed)) {
    const uint32_t before = r.count.exchange(0, std::memory_order_relaxed);
    r.last.store(seen == sec - 1 ? before : 0, std::memory_order_relaxed);
    r.budget.store(r.share(max), std::memory_order_relaxed);  // a cluster: this node's share (0 on one node)
  }
  const uint32_t budget = r.budget.load(std::memory_order_relaxed);
  return r.count.fetch_add(1, std::memory_order_relaxed) + 1 > (budget ? budget : max);
}

bool MqClientAccess::rate_limited() {
  const uint32_t max = rate_max_;
  if (!max) return false;
  const int64_t sec = mq_.now_ms() / 1000;
  if (sec != rate_second_) {
    rate_second_ = sec;
    rate_count_ = 0;
  }
  return ++rate_count_ > max;
}

// Checks shared by every mode: instance exists, limits, parent topic.
// Success, or why the topic is refused whoever asks: `invalid` is the reason
// for a topic over the instance's length limit (0x90 for a name, 0x8F for a filter).
Reason MqClientAccess::topic_basics(const InstanceState* i, std::string_view topic, std::string* why,
                                    Reason invalid) const {
  if (!i) return *why = "the instance no longer exists", Reason::NotAuthorized;
  if (topic.size() > i->inst.settings.max_topic_length)
    return *why = "topic longer than the instance's limit of " + std::to_string(i->inst.settings.max_topic_length) +
                  " characters",
           invalid;
  if (topic.empty() || topic[0] == '$') return *why = "system topics are reserved", Reason::NotAuthorized;
  if (i->inst.settings.strict_topic && !i->topics.count(parent_of(topic)))
    return *why = "parent topic \"" + std::string(parent_of(topic)) + "\" does not exist in the instance",
           Reason::NotAuthorized;
  return Reason::Success;
}

Reason MqClientAccess::decide_publish(std::string_view topic, uint8_t qos, bool retain, std::string* why) {
  auto* i = instance();
  if (Reason b = topic_basics(i, topic, why, Reason::TopicNameInvalid); b != Reason::Success) return b;
  return cred_->may_publish(f_, *i, topic, qos, retain, mq_.now_ms(), why) ? Reason::Success : Reason::NotAuthorized;
}

Reason MqClientAccess::decide_subscribe(std::string_view filter, std::string* why) {
  const std::string_view inner = strip_shared(filter);
  auto* i = instance();
  if (Reason b = topic_basics(i, inner, why, Reason::TopicFilterInvalid); b != Reason::Success) return b;
  return cred_->may_subscribe(f_, *i, inner, mq_.now_ms(), why) ? Reason::Success : Reason::NotAuthorized;
}

// Re-decides admission after a change (SPEC §3: within a second).
bool MqClientAccess::still_admitted(int64_t now, std::string* why, Notices& notices) {
  auto* i = instance();
  if (!i || i->inst.account_id != f_.account_id) return *why = "the instance was released", false;
  if (i->inst.settings.strict_client_id && !i->groups.count(f_.group_id))
    return *why = "group id \"" + f_.group_id + "\" was deleted", false;
  // Mutual TLS: the device certificate and its CA still registered and active;
  // an instance switched to mutual lets go of clients admitted without one.
  if (!f_.cert_sn.empty() && !device_certificate_still_valid(*i, f_.cert_ca_sn, f_.cert_sn, why)) return false;
  if (f_.cert_sn.empty() && i->inst.settings.mutual_tls)
    return *why = "the instance now requires a device certificate (TlsAuthMode mutual)", false;
  return cred_->still_admitted(f_, *i, now, why, notices);
}

}  // namespace sluice::mq
