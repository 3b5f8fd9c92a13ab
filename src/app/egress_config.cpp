#include "app/egress_config.hpp"

#include "store/pg_db.hpp"

namespace sluice::app {

common::EgressPolicy egress_policy(const Config& cfg) {
  common::EgressPolicy p;
  p.allow(cfg.rules.allowed_target_networks);  // each entry checked when the configuration was read
  for (const auto& url : cfg.cluster.nats)
    if (auto u = common::split_url_host(url)) p.reserve(u->host, u->port ? u->port : 4222);
  if (!cfg.store.postgres.empty())
    for (const auto& [host, port] : store::PgDb::endpoints(cfg.store.postgres)) p.reserve(host, port);
  return p;
}

}  // namespace sluice::app
