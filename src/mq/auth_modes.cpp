#include "mq/auth_modes.hpp"

namespace sluice::mq {

std::vector<std::unique_ptr<AuthMode>> standard_auth_modes(const AuthDeps& d) {
  std::vector<std::unique_ptr<AuthMode>> modes;
  modes.push_back(make_signature_mode(d));
  modes.push_back(make_token_mode(d));
  modes.push_back(make_device_credential_mode(d));
  modes.push_back(make_custom_mode(d));  // last: it takes any username the others did not
  return modes;
}

}  // namespace sluice::mq
