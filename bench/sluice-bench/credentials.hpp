#pragma once
// Per-connection CONNECT credentials. ApsaraMQ's Signature and DeviceCredential
// modes sign the client id (password = Base64(HMAC-SHA1(secret, client id))),
// so a load tool that sends one password for every connection cannot measure
// them: with --sign-secret each CONNECT carries its own signature.
#include <string>

#include "options.hpp"

namespace sbench {

// The client id a connection uses: opt.client_id_prefix + base.
std::string client_id_for(const Options& opt, const std::string& base);
// The CONNECT password for `client_id`: the signature when opt.sign_secret is
// set, else opt.password (empty: none is sent).
std::string password_for(const Options& opt, const std::string& client_id);

}  // namespace sbench
