#pragma once
// What the console believes about a request that came through a reverse proxy.
// The HTTP port speaks plain HTTP only; TLS, if any, ends at a proxy in front of
// it. Only a peer listed in [console] trusted_proxies is believed when it says
//  - X-Forwarded-Proto: https  -> the browser talks TLS: the session cookie is Secure;
//  - X-Forwarded-For: a, b, c  -> the client is the rightmost address that is not
//    itself a trusted proxy (entries left of it were written by the client and are
//    not believed). That address is the one throttled, audited and given to
//    acs:SourceIp conditions of console calls.
// Anyone else's X-Forwarded-* headers are ignored.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_server.hpp"
#include "iam/policy/document.hpp"

namespace sluice::api {

class TrustedProxies {
 public:
  TrustedProxies() = default;
  // Addresses or CIDR blocks ("10.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"). The
  // first entry that does not parse is returned as the error, and nothing is kept.
  static std::optional<std::string> parse(const std::vector<std::string>& entries, TrustedProxies& out);

  bool trusted(std::string_view addr) const;
  // The client's address (the peer unless a trusted proxy forwarded the request).
  std::string client_address(const HttpRequest& req) const;
  // The browser reached us over TLS (at a trusted proxy).
  bool secure(const HttpRequest& req) const;
  bool empty() const { return nets_.empty(); }

 private:
  std::vector<iam::policy::IpNet> nets_;
};

// Splits "a, b,c" into trimmed, non-empty items.
std::vector<std::string> split_list(std::string_view s);

}  // namespace sluice::api
