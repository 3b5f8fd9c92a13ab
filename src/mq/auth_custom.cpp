// Custom mode (SPEC §5): any username registered with AddCustomAuthIdentity.
// The instance comes from TLS SNI / WebSocket Host "<instanceId>.<domain>", else
// the listener's default instance. Identities are USER (any client id) or
// CLIENT (one client id); passwords are the secret itself (ORIGIN) or its HMAC
// of the client id (SIGNED). Permissions (identity, filter, PUB | SUB | PUB_SUB,
// ALLOW | DENY): deny wins, default deny; a connect blacklist of client ids.
#include "mq/auth_modes.hpp"
#include "mq/auth_util.hpp"
#include "mq/mq_service.hpp"
#include "mq/signature.hpp"

namespace sluice::mq {

namespace {

using mqtt::Reason;

class CustomGrant final : public Credential {
 public:
  CustomGrant(IdentityType type, std::string identity, std::string secret)
      : type_(type), identity_(std::move(identity)), secret_(std::move(secret)) {}
  std::unique_ptr<Credential> clone() const override { return std::make_unique<CustomGrant>(*this); }

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
};

class CustomMode final : public AuthMode {
 public:
  explicit CustomMode(std::string default_instance) : default_instance_(std::move(default_instance)) {}
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
    return AuthOutcome::ok(std::make_unique<CustomGrant>(id->type, id->identity(), id->secret));
  }

 private:
  std::string default_instance_;
};

}  // namespace

std::unique_ptr<AuthMode> make_custom_mode(const AuthDeps& d) { return std::make_unique<CustomMode>(d.default_instance); }

}  // namespace sluice::mq
