// Signature mode (SPEC §5): "Signature|<AccessKeyId>|<InstanceId>", password
// Base64(HMAC-SHA1(AccessKeySecret, ClientId)). The access key's principal (the
// root account, a RAM user, an STS role session) is authorized by RAM policies:
// mq:MqttInstanceAccess to connect, mq:PUB / mq:SUB per topic (SPEC §4).
#include <optional>

#include "iam/iam_service.hpp"
#include "mq/auth_modes.hpp"
#include "mq/auth_util.hpp"
#include "mq/mq_service.hpp"
#include "mq/signature.hpp"

namespace sluice::mq {

namespace {

using mqtt::Reason;

class SignatureCredential final : public Credential {
 public:
  SignatureCredential(const AuthDeps& d, auth::HeldKey key) : mq_(*d.mq), authz_(*d.authz), key_(std::move(key)) {}

  std::unique_ptr<Credential> clone() const override { return std::make_unique<SignatureCredential>(*this); }
  bool governed_by_iam() const override { return true; }
  PortableCredential portable() const override { return {"Signature", key_.id}; }

  bool may_connect(const ClientFacts& f, const InstanceState&, int64_t now_ms, std::string* why) override {
    if (instance_allowed(f, now_ms, why)) return true;
    *why = "mq:MqttInstanceAccess denied: " + *why;
    return false;
  }

  bool may_publish(const ClientFacts& f, const InstanceState&, std::string_view topic, uint8_t qos, bool retain,
                   int64_t now_ms, std::string* why) override {
    const std::string res[2] = {topic_arn(f, topic), topic_arn(f, parent_of(topic))};
    auto ctx = request_ctx(f, now_ms, qos, retain);
    auto v = authz_.decide(key_.principal, "mq:PUB", std::span<const std::string>(res, 2), group_of(f), &ctx);
    if (!v.allowed()) *why = v.explain();
    return v.allowed();
  }

  bool may_subscribe(const ClientFacts& f, const InstanceState&, std::string_view filter, int64_t now_ms,
                     std::string* why) override {
    const std::string res[2] = {topic_arn(f, filter), topic_arn(f, parent_of(filter))};
    const std::string rg = group_of(f);
    auto ctx = request_ctx(f, now_ms, std::nullopt, std::nullopt);
    auto v = authz_.decide(key_.principal, "mq:SUB", std::span<const std::string>(res, 2), rg, &ctx);
    if (!v.allowed()) return *why = v.explain(), false;
    const std::string g = arn_prefix(f) + "groupId/" + f.instance_id + "/" + f.group_id;
    auto vg = authz_.decide(key_.principal, "mq:SUB", g, rg, &ctx);
    if (!vg.allowed()) return *why = "group " + f.group_id + ": " + vg.explain(), false;
    return true;
  }

  bool still_admitted(const ClientFacts& f, const InstanceState&, int64_t now_ms, std::string* why,
                      Notices&) override {
    return key_.still_active(authz_, now_ms, why) && instance_allowed(f, now_ms, why);
  }

  bool still_valid(int64_t now_ms, std::string* why, Notices&) override { return !key_.expired(now_ms, why); }

 private:
  // SPEC §4: CONNECT with an access key needs mq:MqttInstanceAccess (or mq:OnsInstanceBaseInfo).
  bool instance_allowed(const ClientFacts& f, int64_t now_ms, std::string* why) {
    const std::string res = arn_prefix(f) + "instance/" + f.instance_id;
    const std::string rg = group_of(f);
    auto ctx = request_ctx(f, now_ms, std::nullopt, std::nullopt);
    auto v = authz_.decide(key_.principal, "mq:MqttInstanceAccess", res, rg, &ctx);
    if (v.allowed()) return true;
    if (v.effect != iam::policy::Effect::Deny) {
      auto v2 = authz_.decide(key_.principal, "mq:OnsInstanceBaseInfo", res, rg, &ctx);
      if (v2.allowed()) return true;
    }
    *why = v.explain();
    return false;
  }

  const std::string& arn_prefix(const ClientFacts& f) {
    if (arn_prefix_.empty()) arn_prefix_ = "acs:mq:" + mq_.options().region + ":" + f.account_id + ":";
    return arn_prefix_;
  }
  std::string topic_arn(const ClientFacts& f, std::string_view topic) {
    return arn_prefix(f) + "topic/" + f.instance_id + "/" + std::string(topic);
  }
  // The instance's resource group, as it is now: a move changes who may act at once.
  std::string group_of(const ClientFacts& f) { return mq_.iam().resource_group_of(f.account_id, "instance", f.instance_id); }

  iam::policy::Context request_ctx(const ClientFacts& f, int64_t now_ms, std::optional<uint8_t> qos,
                                   std::optional<bool> retain) {
    if (!base_ready_) {
      base_ctx_.set("acs:SourceIp", f.peer);
      base_ctx_.set("acs:SecureTransport", f.secure ? "true" : "false");
      base_ctx_.set("acs:AccessId", key_.id);
      base_ctx_.set("mq:ClientId", f.client_id);
      if (!f.group_id.empty()) base_ctx_.set("mq:GroupId", f.group_id);
      base_ready_ = true;
    }
    iam::policy::Context ctx = base_ctx_;
    ctx.set("acs:CurrentTime", auth::iso_time_ms(now_ms));
    if (qos) ctx.set("mq:Qos", std::to_string(*qos));
    if (retain) ctx.set("mq:Retain", *retain ? "true" : "false");
    return ctx;
  }

  MqService& mq_;
  iam::Authorizer& authz_;
  auth::HeldKey key_;
  std::string arn_prefix_;
  iam::policy::Context base_ctx_;
  bool base_ready_ = false;
};

class SignatureMode final : public AuthMode {
 public:
  explicit SignatureMode(AuthDeps d) : d_(std::move(d)) {}
  std::string_view name() const override { return "Signature"; }
  bool claims(const broker::ConnectInfo& info) const override { return auth::names_mode(info, "Signature"); }
  Named named(const Attempt& a) const override { return auth::named_by_user(a, "Signature"); }

  AuthOutcome authenticate(const Attempt& a) override {
    auto u = *auth::parse_mode_user(a.username, "Signature");
    auto k = d_.authz->lookup_access_key(u.key_id);
    if (!k && k.error().http_status == 503)  // the store out of reach: cannot tell, not "wrong"
      return AuthOutcome::refuse(Reason::ServerUnavailable, "the control store is out of reach");
    if (!k) {
      auth::burn_hmac(a.password, a.client_id);
      return AuthOutcome::refuse(Reason::BadUserNameOrPassword, "unknown access key");
    }
    if (!secret_equal(a.password, sign_client_id(k->secret, a.client_id)))
      return AuthOutcome::refuse(Reason::BadUserNameOrPassword, "signature does not match");
    if (k->status != iam::KeyStatus::Active || (k->expires_at && k->expires_at <= a.now_ms / 1000))
      return AuthOutcome::refuse(Reason::BadUserNameOrPassword, "access key inactive or expired");
    d_.authz->note_key_used(u.key_id);  // GetAccessKeyLastUsed (batched, no store write here)
    return auth::key_owner_instance(a, u, *k, std::make_unique<SignatureCredential>(
                                        d_, auth::HeldKey{std::string(u.key_id), k->principal, k->expires_at}));
  }

  // The key, as it is now: RAM decides the rest when the will goes out.
  AuthOutcome revive(const ClientFacts& f, std::string_view data, int64_t now_ms) override {
    std::string why;
    auto key = auth::revive_key(*d_.authz, f, data, now_ms, &why);
    if (!key) return AuthOutcome::refuse(Reason::NotAuthorized, why);
    return AuthOutcome::ok(std::make_unique<SignatureCredential>(d_, std::move(*key)));
  }

 private:
  AuthDeps d_;
};

}  // namespace

std::unique_ptr<AuthMode> make_signature_mode(const AuthDeps& d) { return std::make_unique<SignatureMode>(d); }

}  // namespace sluice::mq
