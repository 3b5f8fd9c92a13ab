#pragma once
// The read-only system policies, as shipped by the policy library
// (iam/policy/system_policies.hpp), brought into this namespace.
#include "iam/policy/system_policies.hpp"

namespace sluice::iam {
using policy::find_system_policy;
using policy::system_policies;
using policy::SystemPolicy;
}  // namespace sluice::iam
