#pragma once
// Where tenants' data rules may connect (common/egress.hpp), from the
// configuration: the operator's [rules] allowed_target_networks, and the
// endpoints this node itself uses (the cluster's NATS servers, the PostgreSQL
// control store), which no rule may reach whatever is allowed.
#include "app/config.hpp"
#include "common/egress.hpp"

namespace sluice::app {

common::EgressPolicy egress_policy(const Config& cfg);

}  // namespace sluice::app
