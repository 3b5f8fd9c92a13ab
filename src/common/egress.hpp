#pragma once
// Where the server may connect on a tenant's behalf (data rules' webhook,
// NATS and PostgreSQL targets and sources; docs/security.md "Rule targets").
// A rule's Url is a tenant's input: unchecked it makes the server a proxy into
// places the tenant cannot reach itself — the node's loopback services, the
// cloud's metadata address, and above all the cluster's own NATS servers and
// control store (an inflow rule subscribed to the cluster's internal subjects
// reads other tenants' messages; a NATS target publishes into them).
//
// Refused unless the operator allows them ([rules] allowed_target_networks):
// loopback, unspecified, link-local, multicast and broadcast addresses (also
// as IPv4-mapped IPv6). Refused always: the endpoints the node itself uses
// (the cluster's NATS servers, the PostgreSQL control store), whatever the
// allowed networks say. Private networks are allowed: backends live there.
// Checked when a rule is made (a clear API error) and at every connection,
// on the addresses actually connected to, so a name that resolves elsewhere
// later (DNS rebinding) is refused too.
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_net.hpp"

namespace sluice::common {

// One address a name resolved to, allowed: connect to exactly this.
struct EgressAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // "10.0.0.5" / "fd00::5", for URLs and messages
};

class EgressPolicy {
 public:
  // The operator's exceptions to the default refusals; the first entry that
  // does not parse is returned and nothing changes.
  std::optional<std::string> allow(const std::vector<std::string>& blocks);
  // An endpoint the node itself uses ("host", port): refused for rules always.
  // Resolved now (a name that fails to resolve is kept by name only).
  void reserve(const std::string& host, int port);

  // Empty when the server may connect to `a` on port `port`; else why not.
  std::string refusal(const sockaddr* a, int port) const;
  // Resolves host:port and keeps the addresses it may connect to; when there
  // is none, `error` says why (the first refusal, or the resolver's error).
  std::vector<EgressAddress> resolve(const std::string& host, int port, std::string& error) const;
  // For a rule being made: why `host` may not be used, when it is reserved or
  // every address it resolves to is refused; empty when one is allowed or the
  // name does not resolve now (that is the target being down, not refused).
  std::string refused_host(const std::string& host, int port) const;

 private:
  // The same; `refused` tells a refusal (reserved, or every address refused)
  // from a name that does not resolve.
  std::vector<EgressAddress> resolve(const std::string& host, int port, std::string& error, bool& refused) const;
  std::vector<IpNet> allowed_;
  struct Reserved {
    std::string host;
    int port;
    std::vector<EgressAddress> addrs;
  };
  std::vector<Reserved> reserved_;
};

// The process's policy: set once at start-up (app/serve.cpp), before any rule
// runs; read by the rules API and the targets. The default refuses as above
// with nothing allowed and nothing reserved.
const EgressPolicy& egress_policy();
void set_egress_policy(EgressPolicy p);

// "scheme://[user[:pw]@]host[:port][/rest]" split at the host ("[v6]" without
// its brackets); port 0 when absent. nullopt when there is no "://", no host,
// an unclosed '[' or a port outside 1..65535; `why` (may be null) then says
// which ("has no host", ...), for an error message.
struct UrlHost {
  std::string scheme, userinfo, host, rest;  // rest from the first '/' or '?'
  int port = 0;
};
std::optional<UrlHost> split_url_host(std::string_view url, std::string* why = nullptr);

// A PostgreSQL URL's query parameters other than these could send libpq
// elsewhere than the host checked (host, hostaddr, port, service...): the
// first one found, or empty.
std::string postgres_param_refused(std::string_view url);

}  // namespace sluice::common
