// Token mode (SPEC §5): "Token|<AccessKeyId>|<InstanceId>", password
// "R|<token>|W|<token>" (types R, W, RW, any order, all must be valid). The
// tokens decide what the client may do: W tokens the topics it publishes to, R
// tokens the filters it subscribes to. In session, $SYS/uploadToken replaces a
// token; $SYS/tokenExpireNotice warns before expiry and $SYS/tokenInvalidNotice
// (1 invalid, 2 expired, 3 revoked, 4 resource mismatch, 5 type mismatch) comes
// before the disconnect.
#include <boost/json.hpp>

#include <algorithm>

#include "common/crypto.hpp"
#include "mq/auth_modes.hpp"
#include "mq/auth_util.hpp"
#include "mq/mq_service.hpp"
#include "mq/portable_identity.hpp"
#include "mq/signature.hpp"

namespace sluice::mq {

namespace {

namespace json = boost::json;
using mqtt::Reason;

struct HeldToken {
  std::string type;   // "R", "W", "RW"
  std::string hash;   // the token's SHA-256, to re-check it (the token itself is not kept)
  int64_t expire_ms = 0;
  bool noticed = false;
  bool covers_read = false, covers_write = false;
  std::vector<std::string> resources;
};

// A token (by its hash; type as the client declares it) checked against the
// state. Returns 0 when valid, else the tokenInvalidNotice code.
int check_token(const MqService& mq, const std::string& hash, std::string_view type, std::string_view instance_id,
                int64_t now, TokenInfo* out) {
  auto t = mq.find_token_by_hash(hash);
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

class TokenCredential final : public Credential {
 public:
  TokenCredential(const AuthDeps& d, auth::HeldKey key, std::vector<HeldToken> tokens)
      : mq_(*d.mq), authz_(*d.authz), lead_ms_(d.token_notice_lead_ms), key_(std::move(key)), tokens_(std::move(tokens)) {}

  std::unique_ptr<Credential> clone() const override { return std::make_unique<TokenCredential>(*this); }
  bool governed_by_iam() const override { return true; }  // the access key
  // The key and each token's type and hash (RevokeToken works on hashes too).
  PortableCredential portable() const override {
    std::string d;
    put_field(d, key_.id);
    for (const auto& t : tokens_) {
      put_field(d, t.type);
      put_field(d, t.hash);
    }
    return {"Token", std::move(d)};
  }

  bool may_publish(const ClientFacts&, const InstanceState&, std::string_view topic, uint8_t, bool, int64_t,
                   std::string* why) override {
    for (const auto& t : tokens_)
      if (t.covers_write && t.type.find('W') != std::string::npos)
        for (const auto& r : t.resources)
          if (filter_matches(r, topic)) return true;
    return *why = "no W token covers the topic", false;
  }

  bool may_subscribe(const ClientFacts&, const InstanceState&, std::string_view filter, int64_t,
                     std::string* why) override {
    for (const auto& t : tokens_)
      if (t.covers_read && t.type.find('R') != std::string::npos)
        for (const auto& r : t.resources)
          if (filter_covers(r, filter)) return true;
    return *why = "no R token covers the filter", false;
  }

  bool still_admitted(const ClientFacts& f, const InstanceState&, int64_t now_ms, std::string* why,
                      Notices& notices) override {
    if (!key_.still_active(authz_, now_ms, why)) return false;
    for (const auto& t : tokens_) {
      const int code = check_token(mq_, t.hash, t.type, f.instance_id, now_ms, nullptr);
      if (code != 0) {
        notices.emplace_back("$SYS/tokenInvalidNotice", invalid_notice(code, t.type));
        return *why = "token no longer valid (code " + std::to_string(code) + ")", false;
      }
    }
    return true;
  }

  bool still_valid(int64_t now_ms, std::string* why, Notices& notices) override {
    if (key_.expired(now_ms, why)) return false;
    for (auto& t : tokens_) {
      if (t.expire_ms <= now_ms) {
        notices.emplace_back("$SYS/tokenInvalidNotice", invalid_notice(2, t.type));
        return *why = "token expired", false;
      }
      if (!t.noticed && t.expire_ms - now_ms <= lead_ms_) {
        t.noticed = true;
        notices.emplace_back("$SYS/tokenExpireNotice", expire_notice(t.expire_ms, t.type));
      }
    }
    return true;
  }

  SystemPublish on_system_publish(const ClientFacts& f, std::string_view topic, std::string_view payload,
                                  int64_t now_ms) override {
    SystemPublish r;
    if (topic != "$SYS/uploadToken") return r;
    r.handled = true;
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
      r.notices.emplace_back("$SYS/tokenInvalidNotice", invalid_notice(5, type));
      return r;
    }
    TokenInfo info;
    const std::string hash = common::sha256_hex(value);
    const int code = check_token(mq_, hash, type, f.instance_id, now_ms, &info);
    if (code != 0) {
      r.notices.emplace_back("$SYS/tokenInvalidNotice", invalid_notice(code, type));
      r.refused = "uploaded token invalid (code " + std::to_string(code) + ")";
      return r;
    }
    HeldToken h{type, hash, info.expire_time_ms, false, info.read, info.write, info.resources};
    auto it = std::find_if(tokens_.begin(), tokens_.end(), [&](const HeldToken& t) { return t.type == type; });
    if (it != tokens_.end())
      *it = std::move(h);
    else
      tokens_.push_back(std::move(h));
    r.rights_changed = true;
    return r;
  }

 private:
  MqService& mq_;
  iam::Authorizer& authz_;
  int64_t lead_ms_;
  auth::HeldKey key_;
  std::vector<HeldToken> tokens_;
};

class TokenMode final : public AuthMode {
 public:
  explicit TokenMode(AuthDeps d) : d_(std::move(d)) {}
  std::string_view name() const override { return "Token"; }
  bool claims(const broker::ConnectInfo& info) const override { return auth::names_mode(info, "Token"); }
  Named named(const Attempt& a) const override { return auth::named_by_user(a, "Token"); }

  AuthOutcome authenticate(const Attempt& a) override {
    auto u = *auth::parse_mode_user(a.username, "Token");
    auto k = d_.authz->lookup_access_key(u.key_id);
    if (!k) return AuthOutcome::refuse(Reason::BadUserNameOrPassword, "unknown access key");
    // R|<token>|W|<token>: every token must be valid, of its declared type, for
    // this instance and the key's account.
    auto p = auth::split_bar(a.password);
    if (p.size() < 2 || p.size() % 2 != 0)
      return AuthOutcome::refuse(Reason::BadUserNameOrPassword, "password must be R|<token>|W|<token>");
    std::vector<HeldToken> tokens;
    for (size_t i = 0; i < p.size(); i += 2) {
      std::string type(p[i]);
      if (type != "R" && type != "W" && type != "RW")
        return AuthOutcome::refuse(Reason::BadUserNameOrPassword, "type must be R, W or RW");
      TokenInfo t;
      std::string hash = common::sha256_hex(p[i + 1]);
      const int code = check_token(*d_.mq, hash, type, u.instance_id, a.now_ms, &t);
      if (code != 0 || t.account_id != k->principal.account_id)
        return AuthOutcome::refuse(Reason::BadUserNameOrPassword,
                                   "token invalid (code " + std::to_string(code ? code : 4) + ")");
      tokens.push_back(HeldToken{type, std::move(hash), t.expire_time_ms, false, t.read, t.write, t.resources});
    }
    if (k->status != iam::KeyStatus::Active || (k->expires_at && k->expires_at <= a.now_ms / 1000))
      return AuthOutcome::refuse(Reason::BadUserNameOrPassword, "access key inactive or expired");
    return auth::key_owner_instance(
        a, u, *k,
        std::make_unique<TokenCredential>(d_, auth::HeldKey{std::string(u.key_id), k->principal, k->expires_at},
                                          std::move(tokens)));
  }

  // The key and every token as they are now: a revoked or expired one refuses the will.
  AuthOutcome revive(const ClientFacts& f, std::string_view data, int64_t now_ms) override {
    std::string_view key_id;
    if (!take_field(data, key_id)) return AuthOutcome::refuse(Reason::NotAuthorized, "unreadable token credential");
    std::string why;
    auto key = auth::revive_key(*d_.authz, f, key_id, now_ms, &why);
    if (!key) return AuthOutcome::refuse(Reason::NotAuthorized, why);
    std::vector<HeldToken> tokens;
    std::string_view type, hash;
    while (take_field(data, type) && take_field(data, hash)) {
      TokenInfo t;
      const std::string h(hash);
      if (const int code = check_token(*d_.mq, h, type, f.instance_id, now_ms, &t); code != 0)
        return AuthOutcome::refuse(Reason::NotAuthorized, "token no longer valid (code " + std::to_string(code) + ")");
      tokens.push_back(HeldToken{std::string(type), h, t.expire_time_ms, true, t.read, t.write, t.resources});
    }
    if (!data.empty() || tokens.empty()) return AuthOutcome::refuse(Reason::NotAuthorized, "unreadable token credential");
    return AuthOutcome::ok(std::make_unique<TokenCredential>(d_, std::move(*key), std::move(tokens)));
  }

 private:
  AuthDeps d_;
};

}  // namespace

std::unique_ptr<AuthMode> make_token_mode(const AuthDeps& d) { return std::make_unique<TokenMode>(d); }

}  // namespace sluice::mq
