#pragma once
// The web console's server side (docs/console-api.md): the built single-page
// app under /console/ (console_static.cpp) and its JSON API under
// /console/api/ — cookie sessions with a CSRF token, sign-in as a root account
// or RAM user, password change, policy validation with the server's own
// parser, and /console/api/call, which runs any RPC operation as the signed-in
// principal through RpcEndpoint::invoke (same authorization, limits, audit).
#include <memory>
#include <string>
#include <vector>

#include "api/console_sessions.hpp"
#include "api/http_server.hpp"

namespace sluice::api {

class RpcEndpoint;

struct ConsoleOptions {
  std::string dir;  // the built app (index.html, assets/); missing: a "not built" page
  ConsoleSessionLimits sessions;
  int login_failures_per_minute = 10;          // per source address, then 429 Throttling.Login
  int login_failures_per_name_per_minute = 10;  // per login (all addresses), then 429 too
  // Reverse proxies (addresses or CIDR blocks) whose X-Forwarded-Proto / -For are
  // believed (console_proxy.hpp). make_console_api throws std::invalid_argument on a bad entry.
  std::vector<std::string> trusted_proxies;
};

// Serves GET /console/<path> from `dir` (SPA fallback to index.html).
HttpResponse serve_console_file(const std::string& dir, const HttpRequest& req);

// The handler of /console/api/ (exposed for tests).
HttpHandler make_console_api(std::shared_ptr<RpcEndpoint> rpc, ConsoleOptions opts);

// Registers /console, /console/ and /console/api/. The endpoint is shared with "/".
void register_console(HttpServer& http, std::shared_ptr<RpcEndpoint> rpc, ConsoleOptions opts);

}  // namespace sluice::api
