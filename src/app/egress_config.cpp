#include "app/egress_config.hpp"

#include <cstdlib>
#include <sstream>
#include <string>

namespace sluice::app {

namespace {

// The host and port a libpq conninfo connects to: a postgresql:// URI, or
// keyword=value pairs (host or hostaddr, port; a socket directory is no
// network endpoint).
std::pair<std::string, int> postgres_endpoint(const std::string& conninfo) {
  if (auto u = common::split_url_host(conninfo)) return {u->host, u->port ? u->port : 5432};
  std::string host = "localhost";
  int port = 5432;
  std::istringstream in(conninfo);
  for (std::string kv; in >> kv;) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    if ((k == "host" || k == "hostaddr") && !v.empty() && v.front() != '/') host = v;
    if (k == "port") port = std::atoi(v.c_str());
  }
  return {host, port};
}

}  // namespace

common::EgressPolicy egress_policy(const Config& cfg) {
  common::EgressPolicy p;
  p.allow(cfg.rules.allowed_target_networks);  // each entry checked when the configuration was read
  for (const auto& url : cfg.cluster.nats)
    if (auto u = common::split_url_host(url)) p.reserve(u->host, u->port ? u->port : 4222);
  if (!cfg.store.postgres.empty()) {
    const auto [host, port] = postgres_endpoint(cfg.store.postgres);
    p.reserve(host, port);
  }
  return p;
}

}  // namespace sluice::app
