#include "mq/mq_access.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <optional>
#include <vector>

#include "common/log.hpp"
#include "iam/authorizer.hpp"
#include "iam/iam_service.hpp"
#include "mq/signature.hpp"

namespace sluice::mq {

namespace json = boost::json;
using broker::Admission;
using broker::ConnectInfo;
using mqtt::Reason;

namespace {

enum class Mode : uint8_t { Signature, Token, Device, Custom };

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::Signature: return "Signature";
    case Mode::Token: return "Token";
    case Mode::Device: return "DeviceCredential";
    case Mode::Custom: return "Custom";
  }
  return "";
}

std::string iso_now(int64_t ms) {
  char buf[32];
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "a|b|c" -> {a, b, c}
std::vector<std::string_view> split_bar(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find('|', start);
    out.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

// The last few topics a connection was allowed to receive, newest replacing the
// oldest: a subscriber to a wildcard usually hears from a handful of publishers,
// each on its own topic, so one entry (a "last topic") would miss every time
// they alternate. Compared from the last byte, where such topics differ.
class RecentTopics {
 public:
  bool has(std::string_view t) const {
    if (t.empty()) return false;
    for (const auto& e : entries_)
      if (e.size() == t.size() && e.back() == t.back() && same(e.data(), t.data(), t.size())) return true;
    return false;
  }
  void add(std::string_view t) {
    entries_[next_].assign(t);
    next_ = (next_ + 1) % kSize;
  }
  void clear() {
    for (auto& e : entries_) e.clear();
  }

 private:
  // Eight bytes at a time: topics are short, and a call to memcmp costs more than them.
  static bool same(const char* a, const char* b, size_t n) {
    for (; n >= 8; a += 8, b += 8, n -= 8) {
      uint64_t x, y;
      std::memcpy(&x, a, 8);
      std::memcpy(&y, b, 8);
      if (x != y) return false;
    }
    for (; n; --n)
      if (*a++ != *b++) return false;
    return true;
  }
  static constexpr size_t kSize = 4;
  std::string entries_[kSize];
  size_t next_ = 0;
};

struct HeldToken {
  std::string type;   // "R", "W", "RW"
  std::string value;  // the token (kept in memory only, to re-check it)
  int64_t expire_ms = 0;
  bool noticed = false;
  bool covers_read = false, covers_write = false;
  std::vector<std::string> resources;
};

// A token (type as the client declares it) checked against the state.
// Returns 0 when valid, else the tokenInvalidNotice code.
int check_token(const MqService& mq, std::string_view value, std::string_view type, std::string_view instance_id,
                int64_t now, TokenInfo* out) {
  auto t = mq.find_token(value);
  if (!t) return 1;
  if (t->revoked) return 3;
  if (t->expire_time_ms <= now) return 2;
  if (t->instance_id != instance_id) return 4;
  const bool want_r = type.find('R') != std::string_view::npos, want_w = type.find('W') != std::string_view::npos;
  if ((want_r && !t->read) || (want_w && !t->write) || (!want_r && !want_w)) return 5;
  if (out) *out = std::move(*t);
  return 0;
}

std::string invalid_notice(int code, std::string_view type) {
  json::object o;
  o["code"] = code;
  o["type"] = type;
  return json::serialize(o);
}
std::string expire_notice(int64_t expire_ms, std::string_view type) {
  json::object o;
  o["expireTime"] = expire_ms;
  o["type"] = type;
  return json::serialize(o);
}

}  // namespace

// ---------------------------------------------------------------------------
// The rights of one admitted connection.

class MqClientAccess final : public broker::ClientAccess {
 public:
  MqClientAccess(MqAccessControl& ac, Mode mode, std::string instance_id, std::string account_id,
                 std::string client_id, std::string key_id, std::string peer, bool secure, std::string channel)
      : ac_(ac), mq_(ac.mq()), mode_(mode), instance_id_(std::move(instance_id)), account_id_(std::move(account_id)),
        client_id_(std::move(client_id)), key_id_(std::move(key_id)), peer_(std::move(peer)), secure_(secure),
        channel_(std::move(channel)) {
    group_id_ = std::string(group_of_client(client_id_));
    region_ = mq_.options().region;
    arn_prefix_ = "acs:mq:" + region_ + ":" + account_id_ + ":";
    base_ctx_.set("acs:SourceIp", peer_);
    base_ctx_.set("acs:SecureTransport", secure_ ? "true" : "false");
    if (!key_id_.empty() && mode_ != Mode::Device && mode_ != Mode::Custom) base_ctx_.set("acs:AccessId", key_id_);
    p2p_prefix_ = "/p2p/" + client_id_;
    base_ctx_.set("mq:ClientId", client_id_);
    if (!group_id_.empty()) base_ctx_.set("mq:GroupId", group_id_);
    snapshot_ = mq_.state();
    refresh_limits();
    iam_gen_ = ac_.authz().generation();
    mq_gen_ = mq_.generation();
  }

  ~MqClientAccess() override = default;
  // A copy decides a will later, on another thread (MqWillGuard): same
  // principal and credentials, no cached decisions.
  MqClientAccess(const MqClientAccess& o)
      : broker::ClientAccess(), principal(o.principal), tokens(o.tokens), custom_type(o.custom_type),
        custom_identity(o.custom_identity), custom_secret_fp(o.custom_secret_fp), key_expires_s(o.key_expires_s),
        ac_(o.ac_), mq_(o.mq_), mode_(o.mode_), instance_id_(o.instance_id_), account_id_(o.account_id_),
        client_id_(o.client_id_), key_id_(o.key_id_), peer_(o.peer_), secure_(o.secure_), channel_(o.channel_),
        group_id_(o.group_id_), region_(o.region_), arn_prefix_(o.arn_prefix_), p2p_prefix_(o.p2p_prefix_),
        base_ctx_(o.base_ctx_), snapshot_(o.snapshot_) {}
  MqClientAccess& operator=(const MqClientAccess&) = delete;

  // ---- set up by admit() ----
  iam::Principal principal;                  // Signature / Token
  std::vector<HeldToken> tokens;             // Token
  IdentityType custom_type = IdentityType::User;
  std::string custom_identity;               // Custom: the identity name permissions refer to
  std::string custom_secret_fp;              // Custom: the secret (to notice a change), Device: the key id
  int64_t key_expires_s = 0;                 // Signature / Token: the access key's expiry (STS keys), 0: none

  bool instance_allowed(std::string* why) {
    // SPEC §4: CONNECT with an access key needs mq:MqttInstanceAccess (or mq:OnsInstanceBaseInfo).
    const std::string res = arn_prefix_ + "instance/" + instance_id_;
    const std::string rg = ac_.mq().iam().resource_group_of(account_id_, "instance", instance_id_);
    auto ctx = request_ctx(std::nullopt, std::nullopt);
    auto v = ac_.authz().decide(principal, "mq:MqttInstanceAccess", res, rg, &ctx);
    if (v.allowed()) return true;
    if (v.effect != iam::policy::Effect::Deny) {
      auto v2 = ac_.authz().decide(principal, "mq:OnsInstanceBaseInfo", res, rg, &ctx);
      if (v2.allowed()) return true;
    }
    if (why) *why = v.explain();
    return false;
  }

  Reason authorize_publish(std::string_view topic, uint8_t qos, bool retain) override {
    if (rate_limited())
      return deny("publish", topic, "message rate above the instance's limit of " + std::to_string(rate_max_) + "/s",
                  Reason::MessageRateTooHigh);
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

  Reason authorize_subscribe(std::string_view filter) override {
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

  bool may_receive(std::string_view topic) override {
    // Fast path: a subscriber usually receives the same few topics again and
    // again. The rest is out of line, so that this stays a few instructions.
    return recent_.has(topic) || may_receive_slow(topic);
  }

  [[gnu::noinline]] bool may_receive_slow(std::string_view topic) {
    if (is_own_p2p(topic)) return true;  // addressed to this client: no subscription involved (SPEC §1)
    key_.assign(topic);
    bool ok;
    if (auto it = recv_cache_.find(key_); it != recv_cache_.end()) {
      ok = it->second;
    } else {
      std::string why;
      ok = allowed_subscribe(topic, &why);
      if (recv_cache_.size() >= 1024) recv_cache_.clear();
      recv_cache_.emplace(key_, ok);
      // Traced once per topic and cache lifetime (a second): the subscription
      // itself was granted, so this is a filter on delivery, not a refused request.
      if (!ok)
        ac_.trace(instance_id_, DeviceTrace{0, client_id_, "delivery_filtered", "message on " + key_ + ": " + why,
                                            channel_, peer_});
    }
    if (ok) recent_.add(topic);
    return ok;
  }

  std::shared_ptr<broker::WillGuard> will_guard() override;

  // A fresh, uncached decision on a will about to go out (MqWillGuard): the
  // principal must still be admitted and still allowed to publish its topic.
  bool will_allowed(const broker::Message& will) {
    snapshot_ = mq_.state();
    refresh_limits();
    const int64_t now = mq_.now_ms();
    std::string why;
    Check ignored;
    bool ok = !key_expired(now, &why) && still_admitted(now, &why, ignored);
    if (ok) ok = decide_publish(will.topic, will.qos, will.retain, &why) == Reason::Success;
    if (!ok) {
      ac_.trace(instance_id_, DeviceTrace{0, client_id_, "will_denied", "will on " + will.topic + ": " + why,
                                          channel_, peer_});
      ac_.audit(event("mqtt.will.denied", will.topic, why));
    }
    return ok;
  }

  Check check(int64_t now_ms) override {
    (void)now_ms;  // the broker's monotonic clock; tokens expire on the wall clock
    Check c;
    const int64_t now = mq_.now_ms();
    c.notices = std::move(pending_notices_);
    pending_notices_.clear();
    if (key_expired(now, &c.why)) {
      // An STS key ends its connections when it expires, as tokens do.
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
    const uint64_t ig = ac_.authz().generation();
    const uint64_t mg = mq_.generation();
    bool changed = false;
    if (mg != mq_gen_) {
      changed = true;
      mq_gen_ = mg;
    }
    if (ig != iam_gen_) {
      if (mode_ == Mode::Custom || mode_ == Mode::Device) {
        iam_gen_ = ig;  // IAM does not govern these modes
      } else {
        changed |= ac_.authz().account_changed_since(account_id_, iam_gen_);
        iam_gen_ = ig;
      }
    }
    if (changed) {
      snapshot_ = mq_.state();
      refresh_limits();
      clear_caches();
      if (mq_.take_close_request(instance_id_, client_id_)) {
        c.reason = Reason::AdministrativeAction;
        c.why = "closed by CloseConnection";
        closing_reason_ = c.why;
        return c;
      }
      std::string why;
      if (!still_admitted(now, &why, c)) {
        c.reason = Reason::NotAuthorized;
        c.why = why;
        closing_reason_ = why;
        ac_.audit(event("mqtt.disconnect.revoked", "", why));
        return c;
      }
      c.rights_changed = true;
    }
    if (mode_ == Mode::Token) {
      for (auto& t : tokens) {
        if (t.expire_ms <= now) {
          c.notices.emplace_back("$SYS/tokenInvalidNotice", invalid_notice(2, t.type));
          c.reason = Reason::NotAuthorized;
          c.why = "token expired";
          closing_reason_ = c.why;
          ac_.audit(event("mqtt.disconnect.revoked", "", c.why));
          return c;
        }
        if (!t.noticed && t.expire_ms - now <= ac_.options().token_notice_lead_ms) {
          t.noticed = true;
          c.notices.emplace_back("$SYS/tokenExpireNotice",
                                 expire_notice(t.expire_ms, t.type));
        }
      }
    }
    return c;
  }

  bool on_system_publish(std::string_view topic, std::string_view payload) override {
    if (topic != "$SYS/uploadToken" || mode_ != Mode::Token) return false;
    json::error_code ec;
    auto v = json::parse(payload, ec);
    std::string type, value;
    if (!ec && v.is_object()) {
      const auto& o = v.as_object();
      if (auto* p = o.if_contains("token"); p && p->is_string()) value = std::string(p->as_string());
      if (auto* p = o.if_contains("type"); p && p->is_string()) type = std::string(p->as_string());
    }
    if (type == "R,W" || type == "W,R") type = "RW";
    if (type != "R" && type != "W" && type != "RW") {
      pending_notices_.emplace_back("$SYS/tokenInvalidNotice", invalid_notice(5, type));
      return true;
    }
    TokenInfo info;
    const int code = check_token(mq_, value, type, instance_id_, mq_.now_ms(), &info);
    if (code != 0) {
      pending_notices_.emplace_back("$SYS/tokenInvalidNotice", invalid_notice(code, type));
      ac_.audit(event("mqtt.token.rejected", "$SYS/uploadToken", "uploaded token invalid (code " +
                                                                    std::to_string(code) + ")"));
      return true;
    }
    HeldToken h{type, value, info.expire_time_ms, false, info.read, info.write, info.resources};
    auto it = std::find_if(tokens.begin(), tokens.end(), [&](const HeldToken& t) { return t.type == type; });
    if (it != tokens.end())
      *it = std::move(h);
    else
      tokens.push_back(std::move(h));
    clear_caches();
    return true;
  }

  bool close_on_denied_publish() const override {
    auto* i = snapshot_->instance(instance_id_);
    return !i || i->inst.settings.close_on_denied_publish;
  }

  void on_close(std::string_view why) override {
    ac_.trace(instance_id_, DeviceTrace{0, client_id_, "disconnect",
                                        closing_reason_.empty() ? std::string(why) : closing_reason_, channel_,
                                        peer_});
    ac_.connection_closed(instance_id_);
  }

 private:
  void clear_caches() {
    pub_cache_.clear();
    last_valid_ = false;
    sub_cache_.clear();
    recv_cache_.clear();
    recent_.clear();
  }

  bool key_expired(int64_t now_ms, std::string* why) const {
    if (key_expires_s == 0 || now_ms / 1000 < key_expires_s) return false;
    *why = "access key " + key_id_ + " expired";
    return true;
  }

  // "<parent>/p2p/<this client id>"
  bool is_own_p2p(std::string_view topic) const {
    const size_t slash = topic.find('/');
    return slash != std::string_view::npos && topic.substr(slash) == p2p_prefix_;
  }

  void remember_last(std::string_view topic, uint8_t qos, bool retain) {
    last_topic_.assign(topic);
    last_qos_ = qos;
    last_retain_ = retain;
    last_valid_ = true;
  }

  void remember(std::unordered_map<std::string, Reason>& cache, const std::string& k, Reason r) {
    if (cache.size() >= 1024) cache.clear();  // bounded: a client cycling topics cannot grow it
    cache.emplace(k, r);
  }

  iam::policy::Context request_ctx(std::optional<uint8_t> qos, std::optional<bool> retain) const {
    iam::policy::Context ctx = base_ctx_;
    ctx.set("acs:CurrentTime", iso_now(mq_.now_ms()));
    if (qos) ctx.set("mq:Qos", std::to_string(*qos));
    if (retain) ctx.set("mq:Retain", *retain ? "true" : "false");
    return ctx;
  }

  AuditEvent event(std::string name, std::string_view resource, std::string reason) const {
    AuditEvent e;
    e.time_ms = mq_.now_ms();
    e.account_id = account_id_;
    e.instance_id = instance_id_;
    e.event = std::move(name);
    e.principal = key_id_;
    e.client_id = client_id_;
    e.source_ip = peer_;
    e.resource = std::string(resource);
    e.reason = std::move(reason);
    return e;
  }

  // Traces and audits a refusal: a denial of rights (NotAuthorized) or a limit.
  Reason deny(const char* op, std::string_view resource, const std::string& why, Reason r = Reason::NotAuthorized) {
    // Over the rate limit: recorded once per second, not once per message.
    if (r == Reason::MessageRateTooHigh && rate_count_ != rate_max_ + 1) return r;
    const bool limit = r != Reason::NotAuthorized;
    ac_.trace(instance_id_, DeviceTrace{0, client_id_, limit ? "limit_exceeded" : "topic_auth_failed",
                                        std::string(op) + " " + std::string(resource) + ": " + why, channel_, peer_});
    ac_.audit(event(std::string("mqtt.") + op + (limit ? ".limited" : ".denied"), resource, why));
    return r;
  }

  // The instance's limits are read once per snapshot, not per message.
  void refresh_limits() {
    auto* i = snapshot_->instance(instance_id_);
    rate_max_ = i ? i->inst.settings.max_messages_per_second : 0;
  }

  bool rate_limited() {
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
  Reason topic_basics(std::string_view topic, std::string* why, Reason invalid) const {
    auto* i = snapshot_->instance(instance_id_);
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

  Reason decide_publish(std::string_view topic, uint8_t qos, bool retain, std::string* why) {
    if (Reason b = topic_basics(topic, why, Reason::TopicNameInvalid); b != Reason::Success) return b;
    return allowed_publish(topic, qos, retain, why) ? Reason::Success : Reason::NotAuthorized;
  }

  bool allowed_publish(std::string_view topic, uint8_t qos, bool retain, std::string* why) {
    switch (mode_) {
      case Mode::Device: return true;  // a device credential covers every topic of its instance
      case Mode::Token: {
        for (const auto& t : tokens)
          if (t.covers_write && t.type.find('W') != std::string::npos)
            for (const auto& r : t.resources)
              if (filter_matches(r, topic)) return true;
        return *why = "no W token covers the topic", false;
      }
      case Mode::Custom: return custom_allowed(topic, false, why);
      case Mode::Signature: {
        const std::string res[2] = {arn_prefix_ + "topic/" + instance_id_ + "/" + std::string(topic),
                                    arn_prefix_ + "topic/" + instance_id_ + "/" + std::string(parent_of(topic))};
        const std::string rg = mq_.iam().resource_group_of(account_id_, "instance", instance_id_);
        auto ctx = request_ctx(qos, retain);
        auto v = ac_.authz().decide(principal, "mq:PUB", std::span<const std::string>(res, 2), rg, &ctx);
        if (!v.allowed()) *why = v.explain();
        return v.allowed();
      }
    }
    return false;
  }

  Reason decide_subscribe(std::string_view filter, std::string* why) {
    const std::string_view inner = strip_shared(filter);
    if (Reason b = topic_basics(inner, why, Reason::TopicFilterInvalid); b != Reason::Success) return b;
    return allowed_subscribe(inner, why) ? Reason::Success : Reason::NotAuthorized;
  }

  bool allowed_subscribe(std::string_view inner, std::string* why) {
    switch (mode_) {
      case Mode::Device: return true;
      case Mode::Token: {
        for (const auto& t : tokens)
          if (t.covers_read && t.type.find('R') != std::string::npos)
            for (const auto& r : t.resources)
              if (filter_covers(r, inner)) return true;
        return *why = "no R token covers the filter", false;
      }
      case Mode::Custom: return custom_allowed(inner, true, why);
      case Mode::Signature: {
        const std::string res[2] = {arn_prefix_ + "topic/" + instance_id_ + "/" + std::string(inner),
                                    arn_prefix_ + "topic/" + instance_id_ + "/" + std::string(parent_of(inner))};
        const std::string rg = mq_.iam().resource_group_of(account_id_, "instance", instance_id_);
        auto ctx = request_ctx(std::nullopt, std::nullopt);
        auto v = ac_.authz().decide(principal, "mq:SUB", std::span<const std::string>(res, 2), rg, &ctx);
        if (!v.allowed()) return *why = v.explain(), false;
        const std::string g = arn_prefix_ + "groupId/" + instance_id_ + "/" + group_id_;
        auto vg = ac_.authz().decide(principal, "mq:SUB", g, rg, &ctx);
        if (!vg.allowed()) return *why = "group " + group_id_ + ": " + vg.explain(), false;
        return true;
      }
    }
    return false;
  }

  // Custom permissions: deny wins, default deny. A PUB topic must match the
  // permission's filter; a SUB filter must be covered by it.
  bool custom_allowed(std::string_view topic, bool sub, std::string* why) const {
    auto* i = snapshot_->instance(instance_id_);
    bool allowed = false;
    for (const auto& p : i->permissions) {
      if (p.identity_type != custom_type || p.identity != custom_identity) continue;
      if (p.action != PermitAction::PubSub && (p.action == PermitAction::Sub) != sub) continue;
      if (p.effect == PermitEffect::Deny) {
        // A deny on a filter overlapping the subscription denies it.
        const bool hit = sub ? (filter_covers(p.topic, topic) || filter_covers(topic, p.topic))
                             : filter_matches(p.topic, topic);
        if (hit) return *why = "custom permission DENY on \"" + p.topic + "\"", false;
      } else {
        allowed |= sub ? filter_covers(p.topic, topic) : filter_matches(p.topic, topic);
      }
    }
    if (!allowed) *why = "no custom permission allows it (default deny)";
    return allowed;
  }

  // Re-decides admission after a change (SPEC §3: within a second).
  bool still_admitted(int64_t now, std::string* why, Check& c) {
    auto* i = snapshot_->instance(instance_id_);
    if (!i || i->inst.account_id != account_id_) return *why = "the instance was released", false;
    if (i->inst.settings.strict_client_id && !i->groups.count(group_id_))
      return *why = "group id \"" + group_id_ + "\" was deleted", false;
    switch (mode_) {
      case Mode::Signature:
      case Mode::Token: {
        auto k = ac_.authz().lookup_access_key(key_id_);
        if (!k) return *why = "access key " + key_id_ + " was deleted", false;
        if (k->status != iam::KeyStatus::Active || (k->expires_at && k->expires_at <= now / 1000))
          return *why = "access key " + key_id_ + " is inactive or expired", false;
        if (mode_ == Mode::Signature) return instance_allowed(why);
        for (const auto& t : tokens) {
          int code = check_token(mq_, t.value, t.type, instance_id_, now, nullptr);
          if (code != 0) {
            c.notices.emplace_back("$SYS/tokenInvalidNotice", invalid_notice(code, t.type));
            return *why = "token no longer valid (code " + std::to_string(code) + ")", false;
          }
        }
        return true;
      }
      case Mode::Device: {
        auto it = i->devices.find(client_id_);
        if (it == i->devices.end() || it->second.device_access_key_id != key_id_)
          return *why = "device credential unregistered or refreshed", false;
        return true;
      }
      case Mode::Custom: {
        if (i->blacklist.count(client_id_)) return *why = "client id blacklisted", false;
        auto* id = i->find_identity(custom_type, custom_identity);
        if (!id || id->secret != custom_secret_fp) return *why = "custom identity deleted or its secret changed", false;
        return true;
      }
    }
    return false;
  }

  MqAccessControl& ac_;
  MqService& mq_;
  const Mode mode_;
  const std::string instance_id_, account_id_, client_id_, key_id_, peer_;
  const bool secure_;
  const std::string channel_;
  std::string group_id_, region_, arn_prefix_, p2p_prefix_;
  iam::policy::Context base_ctx_;
  std::shared_ptr<const MqState> snapshot_;
  uint64_t iam_gen_ = 0, mq_gen_ = 0;
  int64_t cache_second_ = 0;
  std::string key_;  // scratch: cache key
  std::unordered_map<std::string, Reason> pub_cache_, sub_cache_;
  std::unordered_map<std::string, bool> recv_cache_;  // may_receive, per concrete topic
  RecentTopics recent_;                               // the last topics may_receive allowed
  std::vector<std::pair<std::string, std::string>> pending_notices_;
  std::string closing_reason_;
  int64_t rate_second_ = 0;
  uint32_t rate_count_ = 0;
  uint32_t rate_max_ = 0;
  // The last allowed publish (topic, QoS, retain): valid until the caches are dropped.
  std::string last_topic_;
  uint8_t last_qos_ = 0;
  bool last_retain_ = false;
  bool last_valid_ = false;
};

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

 private:
  std::mutex mu_;
  MqClientAccess access_;
};

std::shared_ptr<broker::WillGuard> MqClientAccess::will_guard() { return std::make_shared<MqWillGuard>(*this); }

// ---------------------------------------------------------------------------

MqAccessControl::MqAccessControl(broker::Broker& broker, MqService& mq, iam::Authorizer& authz, AccessOptions opts,
                                 std::shared_ptr<AuditSink> audit)
    : broker_(broker), mq_(mq), authz_(authz), opts_(std::move(opts)),
      audit_(audit ? std::move(audit) : std::make_shared<LogAuditSink>()) {}

MqAccessControl::~MqAccessControl() = default;

void MqAccessControl::audit(AuditEvent e) { audit_->record(e); }

void MqAccessControl::trace(std::string_view instance_id, DeviceTrace t) {
  if (instance_id.empty()) return;
  auto s = mq_.state();
  auto* i = s->instance(instance_id);
  if (!i || !i->inst.settings.tracing) return;
  mq_.traces().device(instance_id, std::move(t));
}

void MqAccessControl::connection_closed(const std::string& instance_id) {
  std::lock_guard lk(conn_mu_);
  auto it = connections_.find(instance_id);
  if (it != connections_.end() && it->second > 0 && --it->second == 0) connections_.erase(it);
}

bool MqAccessControl::rate_limited(std::string_view peer, int64_t now) {
  std::lock_guard lk(fail_mu_);
  auto it = fail_buckets_.find(std::string(peer));
  if (it == fail_buckets_.end()) return false;
  auto& b = it->second;
  b.tokens = std::min(opts_.auth_fail_burst, b.tokens + (now - b.last_ms) / 1000.0 * opts_.auth_fail_per_second);
  b.last_ms = now;
  return b.tokens < 1.0;
}

void MqAccessControl::note_failure(std::string_view peer, int64_t now) {
  failures_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lk(fail_mu_);
  if (fail_buckets_.size() > 100000) fail_buckets_.clear();  // bounded under a flood of addresses
  auto [it, fresh] = fail_buckets_.try_emplace(std::string(peer), Bucket{opts_.auth_fail_burst, now});
  auto& b = it->second;
  if (!fresh)
    b.tokens = std::min(opts_.auth_fail_burst, b.tokens + (now - b.last_ms) / 1000.0 * opts_.auth_fail_per_second);
  b.last_ms = now;
  b.tokens = std::max(0.0, b.tokens - 1.0);
}

Admission MqAccessControl::refuse(const ConnectInfo& info, Reason r, std::string_view instance_id,
                                  std::string_view account_id, std::string_view principal, std::string why,
                                  const std::string& channel) {
  const int64_t now = mq_.now_ms();
  note_failure(info.peer_address, now);
  trace(instance_id, DeviceTrace{0, std::string(info.client_id), "auth_failed", why, channel,
                                 std::string(info.peer_address)});
  AuditEvent e;
  e.time_ms = now;
  e.account_id = account_id;
  e.instance_id = instance_id;
  e.event = "mqtt.connect.denied";
  e.principal = principal;
  e.client_id = info.client_id;
  e.source_ip = info.peer_address;
  e.reason = why;
  audit(std::move(e));
  Admission a;
  a.reason = r;
  return a;
}

// Authentication comes first, and every way of failing it gets the same answer
// (0x86 bad user name or password): a client without valid credentials learns
// nothing about which instances, access keys, groups or client ids exist (issue
// #14 item 11). Once the credentials are proven, an instance that does not exist
// and one of another account are again answered alike (0x87), and only then
// are the client id and the principal's rights checked.
Admission MqAccessControl::admit(const ConnectInfo& info) {
  const int64_t now = mq_.now_ms();
  const std::string channel = "ch-" + std::to_string(channel_seq_.fetch_add(1, std::memory_order_relaxed));
  if (rate_limited(info.peer_address, now)) {
    Admission a;
    a.reason = Reason::NotAuthorized;
    log::debug("mq: connect from {} refused: too many failed attempts", info.peer_address);
    return a;
  }
  (void)mq_.generation();  // polls for other processes' changes
  auto state = mq_.state();
  const std::string_view user = info.username.value_or(std::string_view{});
  const std::string_view pass = info.password.value_or(std::string_view{});
  const std::string_view cid = info.client_id;

  Mode mode = Mode::Custom;
  std::string key_id, instance_id;
  auto parts = split_bar(user);
  if (parts.size() == 3 && (parts[0] == "Signature" || parts[0] == "Token" || parts[0] == "DeviceCredential")) {
    mode = parts[0] == "Signature" ? Mode::Signature : parts[0] == "Token" ? Mode::Token : Mode::Device;
    key_id = parts[1];
    instance_id = parts[2];
  } else {
    // Custom: the instance from TLS SNI / WebSocket Host "<instanceId>.<domain>", else the default.
    std::string_view host = info.server_name;
    auto dot = host.find('.');
    std::string_view first = host.substr(0, dot);
    if (!first.empty() && state->instance(first)) instance_id = first;
    else instance_id = opts_.default_instance;
    key_id = user;
  }
  if (!info.username)
    return refuse(info, Reason::BadUserNameOrPassword, {}, {}, {}, "no username: anonymous clients are not accepted",
                  channel);

  const InstanceState* inst = state->instance(instance_id);
  // Denials are recorded where the instance's owner can see them (its traces
  // and audit log), never in an account the caller merely named.
  const std::string inst_account = inst ? inst->inst.account_id : std::string();
  const std::string_view trace_instance = inst ? std::string_view(instance_id) : std::string_view{};
  auto bad_credentials = [&](std::string why) {
    return refuse(info, Reason::BadUserNameOrPassword, trace_instance, inst_account, key_id,
                  std::string(mode_name(mode)) + ": " + why, channel);
  };
  // The same work whether or not a secret was found, so that timing does not
  // tell a known key from an unknown one.
  auto burn_hmac = [&] { (void)secret_equal(pass, sign_client_id("sluice-no-such-key", cid)); };

  iam::Principal principal;
  int64_t key_expires_s = 0;
  std::vector<HeldToken> tokens;
  const CustomIdentity* custom = nullptr;
  switch (mode) {
    case Mode::Signature:
    case Mode::Token: {
      auto k = authz_.lookup_access_key(key_id);
      if (!k) {
        burn_hmac();
        return bad_credentials("unknown access key");
      }
      if (mode == Mode::Signature) {
        if (!secret_equal(pass, sign_client_id(k->secret, cid))) return bad_credentials("signature does not match");
      } else {
        // R|<token>|W|<token>: every token must be valid, of its declared type,
        // for this instance and the key's account.
        auto p = split_bar(pass);
        if (p.size() < 2 || p.size() % 2 != 0) return bad_credentials("password must be R|<token>|W|<token>");
        for (size_t i = 0; i < p.size(); i += 2) {
          std::string type(p[i]);
          if (type != "R" && type != "W" && type != "RW") return bad_credentials("type must be R, W or RW");
          TokenInfo t;
          const int code = check_token(mq_, p[i + 1], type, instance_id, now, &t);
          if (code != 0 || t.account_id != k->principal.account_id)
            return bad_credentials("token invalid (code " + std::to_string(code ? code : 4) + ")");
          tokens.push_back(HeldToken{type, std::string(p[i + 1]), t.expire_time_ms, false, t.read, t.write,
                                     t.resources});
        }
      }
      if (k->status != iam::KeyStatus::Active || (k->expires_at && k->expires_at <= now / 1000))
        return bad_credentials("access key inactive or expired");
      // Proven: the caller holds this key. A missing instance and another
      // account's instance are answered alike.
      if (!inst)
        return refuse(info, Reason::NotAuthorized, {}, {}, key_id,
                      std::string(mode_name(mode)) + ": instance \"" + instance_id + "\" does not exist", channel);
      if (k->principal.account_id != inst_account)
        return refuse(info, Reason::NotAuthorized, instance_id, inst_account, key_id,
                      "the access key belongs to another account than the instance", channel);
      principal = k->principal;
      key_expires_s = k->expires_at;
      break;
    }
    case Mode::Device: {
      auto it = state->device_keys.find(key_id);
      if (it == state->device_keys.end() || it->second.first != instance_id || !inst) {
        burn_hmac();
        return bad_credentials("unknown device access key, or one of another instance");
      }
      const auto& d = inst->devices.at(it->second.second);
      if (!secret_equal(pass, sign_client_id(d.device_access_key_secret, cid)))
        return bad_credentials("signature does not match");
      // Proven: the caller holds the device secret, for another client id.
      if (it->second.second != cid)
        return refuse(info, Reason::NotAuthorized, instance_id, inst_account, key_id,
                      "DeviceCredential: the credential belongs to another client id", channel);
      break;
    }
    case Mode::Custom: {
      if (!inst) {
        burn_hmac();
        return bad_credentials("instance \"" + instance_id + "\" does not exist");
      }
      // A CLIENT identity (this client id, this username) first, else a USER identity.
      custom = inst->find_identity(IdentityType::Client, cid);
      if (custom && custom->username != user) custom = nullptr;
      if (!custom) custom = inst->find_identity(IdentityType::User, user);
      if (!custom) {
        burn_hmac();
        return bad_credentials("unknown username");
      }
      const bool ok = custom->sign_mode == SignMode::Origin ? secret_equal(pass, custom->secret)
                                                            : secret_equal(pass, sign_client_id(custom->secret, cid));
      if (!ok) return bad_credentials("password does not match");
      if (inst->blacklist.count(cid))
        return refuse(info, Reason::NotAuthorized, instance_id, inst_account, key_id, "Custom: client id blacklisted",
                      channel);
      break;
    }
  }

  // Authenticated, for this instance. Client id: <GroupId>@@@<DeviceId>, the
  // group existing (strict by default).
  const auto& settings = inst->inst.settings;
  const std::string_view group = group_of_client(cid);
  if (cid.size() > settings.max_client_id_length)
    return refuse(info, Reason::ClientIdentifierNotValid, instance_id, inst_account, key_id,
                  "client id longer than " + std::to_string(settings.max_client_id_length) + " characters", channel);
  if (settings.strict_client_id) {
    if (group.empty() || !valid_group_id(group) || cid.size() <= group.size() + 3)
      return refuse(info, Reason::ClientIdentifierNotValid, instance_id, inst_account, key_id,
                    "client id must be <GroupId>@@@<DeviceId>", channel);
    if (!inst->groups.count(group))
      return refuse(info, Reason::ClientIdentifierNotValid, instance_id, inst_account, key_id,
                    "group id \"" + std::string(group) + "\" does not exist in the instance", channel);
  }

  auto access = std::make_unique<MqClientAccess>(*this, mode, instance_id, inst_account, std::string(cid), key_id,
                                                 std::string(info.peer_address), info.secure, channel);
  access->principal = std::move(principal);
  access->key_expires_s = key_expires_s;
  access->tokens = std::move(tokens);
  if (custom) {
    access->custom_type = custom->type;
    access->custom_identity = custom->identity();
    access->custom_secret_fp = custom->secret;
  }
  if (mode == Mode::Signature) {
    std::string why;
    if (!access->instance_allowed(&why))
      return refuse(info, Reason::NotAuthorized, instance_id, inst_account, key_id,
                    "mq:MqttInstanceAccess denied: " + why, channel);
  }

  auto ns = broker_.find(instance_id);
  if (!ns) {
    log::warn("mq: instance {} has no namespace yet", instance_id);
    Admission a;
    a.reason = Reason::ServerUnavailable;
    return a;
  }
  {
    std::lock_guard lk(conn_mu_);
    auto& n = connections_[instance_id];
    if (settings.max_connections && n >= settings.max_connections) {
      Admission a;
      a.reason = Reason::QuotaExceeded;
      trace(instance_id, DeviceTrace{0, std::string(cid), "auth_failed", "instance connection limit reached", channel,
                                     std::string(info.peer_address)});
      return a;
    }
    ++n;
  }
  if (auto s = ns->find_session(cid); s && s->online())
    trace(instance_id, DeviceTrace{0, std::string(cid), "client_id_conflict",
                                   "a second connection took the session over", channel,
                                   std::string(info.peer_address)});
  trace(instance_id, DeviceTrace{0, std::string(cid), "connect", std::string(mode_name(mode)) + " " + key_id, channel,
                                 std::string(info.peer_address)});
  Admission a;
  a.ns = std::move(ns);
  a.access = std::move(access);
  return a;
}

}  // namespace sluice::mq
