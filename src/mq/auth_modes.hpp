#pragma once
// The authentication modes Sluice offers (SPEC §5), in the order they are asked
// whether a CONNECT is theirs: Signature, Token and DeviceCredential name
// themselves in the username; Custom takes any other username. The anonymous
// development mode (`--allow-anonymous`) is a registry of its own.
#include <memory>
#include <vector>

#include "mq/auth_mode.hpp"

namespace sluice::iam {
class Authorizer;
}

namespace sluice::mq {

class MqService;

// What the modes may use.
struct AuthDeps {
  MqService* mq = nullptr;
  iam::Authorizer* authz = nullptr;
  std::string default_instance;                  // Custom mode without an instance in SNI / Host
  int64_t token_notice_lead_ms = 5 * 60 * 1000;  // $SYS/tokenExpireNotice this long before expiry
};

std::unique_ptr<AuthMode> make_signature_mode(const AuthDeps& d);
std::unique_ptr<AuthMode> make_token_mode(const AuthDeps& d);
std::unique_ptr<AuthMode> make_device_credential_mode(const AuthDeps& d);
std::unique_ptr<AuthMode> make_custom_mode(const AuthDeps& d);
std::unique_ptr<AuthMode> make_anonymous_mode();

// ApsaraMQ's four modes, in the order they are asked.
std::vector<std::unique_ptr<AuthMode>> standard_auth_modes(const AuthDeps& d);

}  // namespace sluice::mq
