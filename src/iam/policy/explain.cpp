// Decision::explain: the human sentence shown in audit logs, the console's
// "why was I denied" and `sluice admin explain`.
#include "iam/policy/policy.hpp"

namespace sluice::iam::policy {

std::string Decision::explain(std::span<const Grant> grants) const {
  if (effect == Effect::ImplicitDeny || grant_index < 0 || static_cast<size_t>(grant_index) >= grants.size())
    return "no statement matched: implicit deny";
  const Grant& g = grants[static_cast<size_t>(grant_index)];
  std::string s = effect == Effect::Deny ? "Deny" : "Allow";
  s += " by policy ";
  s += g.policy_name;
  s += " (";
  s += g.policy_type;
  s += ", ";
  s += g.version_id;
  s += ") statement ";
  s += std::to_string(statement_index);
  if (!sid.empty()) {
    s += " (Sid \"";
    s += sid;
    s += "\")";
  }
  if (g.scope.kind == Scope::Kind::ResourceGroup) {
    s += " at ResourceGroup ";
    s += g.scope.resource_group_id;
  } else {
    s += " at Account";
  }
  if (!g.via.empty()) {
    s += " via ";
    s += g.via;
  }
  return s;
}

}  // namespace sluice::iam::policy
