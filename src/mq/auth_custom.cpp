// Custom mode (SPEC §5): any username registered with AddCustomAuthIdentity.
// The instance comes from TLS SNI / WebSocket Host "<instanceId>.<domain>", else
// the listener's default instance. Identities are USER (any client id) or
// CLIENT (one client id); passwords are the secret itself (ORIGIN) or its HMAC
// of the client id (SIGNED). Permissions (identity, filter, PUB | SUB | PUB_SUB,
// ALLOW | DENY): deny wins, default deny; a connect blacklist of client ids.
#include "mq/auth_modes.hpp"
#include "mq/auth_util.hpp"
#include "mq/mq_service.hpp"
#include "mq/portable_identity.hpp"
#include "mq/signature.hpp"

namespace sluice::mq {

namespace {

using mqtt::Reason;

class CustomGrant final : public Credential {
 public:
  CustomGrant(IdentityType type, std::string identity, std::string secret, int64_t updated_ms)
      : type_(type), identity_(std::move(identity)), secret_(std::move(secret)), updated_ms_(updated_ms) {}
  std::unique_ptr<Credential> clone() const override { return std::make_unique<CustomGrant>(*this); }
  // The identity's name and version, not its secret: another node refuses it
  // if the identity was updated since (a new secret) or deleted.
  PortableCredential portable() const override {
    std::string d;
    put_field(d, type_ == IdentityType::Client ? "C" : "U");
    put_field(d, identity_);
    put_field(d, std::to_string(updated_ms_));
    return {"Custom", std::move(d)};
  }

  bool may_publish(const ClientFacts&, const InstanceState& i, std::string_view topic, uint8_t, bool, int64_t,
                   std::string* why) override {
    return allowed(i, topic, false, why);
  }
  bool may_subscribe(const ClientFacts&, const InstanceState& i, std::string_view filter, int64_t,
                     std::string* why) override {
    return allowed(i, filter, true, why);
  }
  bool still_admitted(const ClientFacts& f, const InstanceState& i, int64_t, std::string* why, Notices&) override {
    if (i.blacklist.count(f.client_id)) return *why = "client id blacklisted", false;
    auto* id = i.find_identity(type_, identity_);
    if (!id || id->secret != secret_) return *why = "custom identity deleted or its secret changed", false;
    return true;
  }

 private:
  // Deny wins, default deny. A PUB topic must match the permission's filter; a
  // SUB filter must be covered by it, and a DENY on any overlapping filter denies it.
  bool allowed(const InstanceState& i, std::string_view topic, bool sub, std::string* why) const {
    bool ok = false;
    for (const auto& p : i.permissions) {
      if (p.identity_type != type_ || p.identity != identity_) continue;
      if (p.action != PermitAction::PubSub && (p.action == PermitAction::Sub) != sub) continue;
      if (p.effect == PermitEffect::Deny) {
        const bool hit = sub ? (filter_covers(p.topic, topic) || filter_covers(topic, p.topic))
                             : filter_matches(p.topic, topic);
        if (hit) return *why = "custom permission DENY on \"" + p.topic + "\"", false;
      } else {
        ok |= sub ? filter_covers(p.topic, topic) : filter_matches(p.topic, topic);
      }
    }
    if (!ok) *why = "no custom permission allows it (default deny)";
    return ok;
  }

  IdentityType type_;
  std::string identity_;  // the name permissions refer to
  std::string secret_;    // to notice a change of secret
  int64_t updated_ms_;    // the identity's version when the client connected (portable())
};

class CustomMode final : public AuthMode {
 public:
  CustomMode(MqService* mq, std::string default_instance) : mq_(mq), default_instance_(std::move(default_instance)) {}
  std::string_view name() const override { return "Custom"; }
  // Any username the modes before it did not claim.
  bool claims(const broker::ConnectInfo& info) const override { return info.username.has_value(); }

  Named named(const Attempt& a) const override {
    std::string_view host = a.info.server_name;
    std::string_view first = host.substr(0, host.find('.'));
    if (!first.empty() && a.state->instance(first)) return Named{std::string(a.username), std::string(first)};
    return Named{std::string(a.username), default_instance_};
  }

  AuthOutcome authenticate(const Attempt& a) override {
    const InstanceState* inst = a.state->instance(named(a).instance_id);
    if (!inst) {
      auth::burn_hmac(a.password, a.client_id);
      return AuthOutcome::refuse(Reason::BadUserNameOrPassword, "instance does not exist");
    }
    // A CLIENT identity (this client id, this username) first, else a USER identity.
    const CustomIdentity* id = inst->find_identity(IdentityType::Client, a.client_id);
    if (id && id->username != a.username) id = nullptr;
    if (!id) id = inst->find_identity(IdentityType::User, a.username);
    if (!id) {
      auth::burn_hmac(a.password, a.client_id);
      return AuthOutcome::refuse(Reason::BadUserNameOrPassword, "unknown username");
    }
    const bool ok = id->sign_mode == SignMode::Origin ? secret_equal(a.password, id->secret)
                                                      : secret_equal(a.password, sign_client_id(id->secret, a.client_id));
    if (!ok) return AuthOutcome::refuse(Reason::BadUserNameOrPassword, "password does not match");
    // The blacklist is told only to a client that proved its password.
    if (inst->blacklist.count(a.client_id)) return AuthOutcome::refuse(Reason::NotAuthorized, "client id blacklisted");
    return AuthOutcome::ok(std::make_unique<CustomGrant>(id->type, id->identity(), id->secret, id->update_time_ms));
  }

  AuthOutcome revive(const ClientFacts& f, std::string_view data, int64_t) override {
    std::string_view type, name, updated;
    if (!take_field(data, type) || !take_field(data, name) || !take_field(data, updated))
      return AuthOutcome::refuse(Reason::NotAuthorized, "unreadable custom identity");
    const auto state = mq_ ? mq_->state() : nullptr;
    const InstanceState* inst = state ? state->instance(f.instance_id) : nullptr;
    const IdentityType t = type == "C" ? IdentityType::Client : IdentityType::User;
    const CustomIdentity* id = inst ? inst->find_identity(t, std::string(name)) : nullptr;
    if (!id || std::to_string(id->update_time_ms) != updated)
      return AuthOutcome::refuse(Reason::NotAuthorized, "custom identity deleted or its secret changed");
    return AuthOutcome::ok(std::make_unique<CustomGrant>(id->type, id->identity(), id->secret, id->update_time_ms));
  }

 private:
  MqService* mq_;
  std::string default_instance_;
};

}  // namespace

std::unique_ptr<AuthMode> make_custom_mode(const AuthDeps& d) {
  return std::make_unique<CustomMode>(d.mq, d.default_instance);
}

}  // namespace sluice::mq
