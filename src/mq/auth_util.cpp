#include "mq/auth_util.hpp"

#include "common/iso_time.hpp"
#include "mq/mq_service.hpp"
#include "mq/signature.hpp"

namespace sluice::mq::auth {

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

std::optional<ModeUser> parse_mode_user(std::string_view username, std::string_view mode) {
  auto parts = split_bar(username);
  if (parts.size() != 3 || parts[0] != mode) return std::nullopt;
  return ModeUser{parts[1], parts[2]};
}

bool names_mode(const broker::ConnectInfo& info, std::string_view mode) {
  return info.username && parse_mode_user(*info.username, mode).has_value();
}

Named named_by_user(const Attempt& a, std::string_view mode) {
  auto u = parse_mode_user(a.username, mode);
  if (!u) return {};
  return Named{std::string(u->key_id), std::string(u->instance_id)};
}

void burn_hmac(std::string_view password, std::string_view client_id) {
  (void)secret_equal(password, sign_client_id("sluice-no-such-key", client_id));
}

std::string iso_time_ms(int64_t ms) { return common::iso8601_utc(ms / 1000); }

bool HeldKey::expired(int64_t now_ms, std::string* why) const {
  if (expires_s == 0 || now_ms / 1000 < expires_s) return false;
  *why = "access key " + id + " expired";
  return true;
}

bool HeldKey::still_active(iam::Authorizer& authz, int64_t now_ms, std::string* why) const {
  auto k = authz.lookup_access_key(id);
  if (!k && k.error().http_status == 503) return true;  // the store out of reach: the cached decision stands
  if (!k) return *why = "access key " + id + " was deleted", false;
  if (k->status != iam::KeyStatus::Active || (k->expires_at && k->expires_at <= now_ms / 1000))
    return *why = "access key " + id + " is inactive or expired", false;
  return true;
}

std::optional<HeldKey> revive_key(iam::Authorizer& authz, const ClientFacts& f, std::string_view key_id,
                                  int64_t now_ms, std::string* why) {
  auto k = authz.lookup_access_key(key_id);
  if (!k && k.error().http_status == 503) return *why = "the control store is out of reach", std::nullopt;
  if (!k) return *why = "access key " + std::string(key_id) + " was deleted", std::nullopt;
  if (k->status != iam::KeyStatus::Active || (k->expires_at && k->expires_at <= now_ms / 1000))
    return *why = "access key " + std::string(key_id) + " is inactive or expired", std::nullopt;
  if (k->principal.account_id != f.account_id)
    return *why = "the access key belongs to another account than the instance", std::nullopt;
  return HeldKey{std::string(key_id), k->principal, k->expires_at};
}

AuthOutcome key_owner_instance(const Attempt& a, const ModeUser& u, const iam::AccessKeyInfo& k,
                               std::unique_ptr<Credential> cred) {
  const InstanceState* inst = a.state->instance(u.instance_id);
  if (!inst)
    return AuthOutcome::refuse(mqtt::Reason::NotAuthorized,
                               "instance \"" + std::string(u.instance_id) + "\" does not exist");
  if (k.principal.account_id != inst->inst.account_id)
    return AuthOutcome::refuse(mqtt::Reason::NotAuthorized, "the access key belongs to another account than the instance");
  return AuthOutcome::ok(std::move(cred));
}

}  // namespace sluice::mq::auth
