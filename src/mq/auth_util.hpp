#pragma once
// Small pieces the authentication modes share: the username's "Mode|Key|Instance"
// form, a constant-time stand-in HMAC, the access-key part of Signature and Token
// mode, and the ISO time policies see as acs:CurrentTime.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iam/authorizer.hpp"
#include "mq/auth_mode.hpp"

namespace sluice::mq::auth {

// "a|b|c" -> {a, b, c}
std::vector<std::string_view> split_bar(std::string_view s);

// The parts of "<Mode>|<KeyId>|<InstanceId>" when the username has that form for `mode`.
struct ModeUser {
  std::string_view key_id, instance_id;
};
std::optional<ModeUser> parse_mode_user(std::string_view username, std::string_view mode);
bool names_mode(const broker::ConnectInfo& info, std::string_view mode);
Named named_by_user(const Attempt& a, std::string_view mode);

// The same work as a real signature check, for a key that does not exist: the
// time of a refusal does not tell a known key from an unknown one.
void burn_hmac(std::string_view password, std::string_view client_id);

// "2024-05-01T12:00:00Z" of a Unix millisecond time.
std::string iso_time_ms(int64_t ms);

// The access key of a Signature or Token CONNECT, looked up and checked: a
// credential holds it to notice deletion, deactivation and expiry (STS keys).
struct HeldKey {
  std::string id;
  iam::Principal principal;
  int64_t expires_s = 0;  // 0: never

  bool expired(int64_t now_ms, std::string* why) const;
  // Still present and active: asked after a change of state.
  bool still_active(iam::Authorizer& authz, int64_t now_ms, std::string* why) const;
};

// The access key a credential made portable on another node names, looked up
// now (AuthMode::revive): deleted, inactive, expired, of another account than
// the client's instance, or unknown because the store is out of reach: none (why).
std::optional<HeldKey> revive_key(iam::Authorizer& authz, const ClientFacts& f, std::string_view key_id,
                                  int64_t now_ms, std::string* why);

// The instance a proven access key connects to. A missing instance and another
// account's are answered alike (0x87): a key holder learns nothing of other
// accounts' instances.
AuthOutcome key_owner_instance(const Attempt& a, const ModeUser& u, const iam::AccessKeyInfo& k,
                               std::unique_ptr<Credential> cred);

}  // namespace sluice::mq::auth
