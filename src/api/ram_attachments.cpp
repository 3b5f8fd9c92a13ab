// RAM policy attachments: policies attached to users, groups and roles, at the
// account scope or a resource group's, and who a policy is attached to.
#include <tuple>

#include "api/ram_internal.hpp"

namespace sluice::api::ram {

namespace {

// ResourceGroupId as in ResourceManager AttachPolicy / DetachPolicy: absent,
// empty or the account id = the account scope, else a resource group of the
// account (EntityNotExist.ResourceGroup otherwise). Detach removes the grant of
// that scope only (issue #14, finding 6: it was ignored, so a grant meant for one
// group became account-wide and a detach by group removed the account-wide one).
template <iam::PrincipalType T>
void attach(Call& c, bool on) {
  const char* pname = T == iam::PrincipalType::User ? "UserName" : T == iam::PrincipalType::Group ? "GroupName" : "RoleName";
  auto type = policy_type(c);
  auto policy = c.req("PolicyName");
  auto who = c.req(pname);
  std::string res = T == iam::PrincipalType::User ? user_arn(c, who) : T == iam::PrincipalType::Group ? group_arn(c, who) : role_arn(c, who);
  const char* kind = T == iam::PrincipalType::User ? "User" : T == iam::PrincipalType::Group ? "Group" : "Role";
  c.authorize(std::string(on ? "ram:AttachPolicyTo" : "ram:DetachPolicyFrom") + kind, res);
  const std::string rg = c.opt("ResourceGroupId").value_or("");
  iam::PrincipalRef p{T, who};
  if (on)
    unwrap(c.iam().attach_policy(c.account(), p, type, policy, rg));
  else
    unwrap(c.iam().detach_policy(c.account(), p, type, policy, rg));
}
template <iam::PrincipalType T>
void list_policies_for(Call& c) {
  const char* pname = T == iam::PrincipalType::User ? "UserName" : T == iam::PrincipalType::Group ? "GroupName" : "RoleName";
  const char* kind = T == iam::PrincipalType::User ? "User" : T == iam::PrincipalType::Group ? "Group" : "Role";
  auto who = c.req(pname);
  std::string res = T == iam::PrincipalType::User ? user_arn(c, who) : T == iam::PrincipalType::Group ? group_arn(c, who) : role_arn(c, who);
  c.authorize(std::string("ram:ListPoliciesFor") + kind, res);
  // The principal must exist.
  if constexpr (T == iam::PrincipalType::User) (void)unwrap(c.iam().get_user(c.account(), who));
  if constexpr (T == iam::PrincipalType::Group) (void)unwrap(c.iam().get_group(c.account(), who));
  if constexpr (T == iam::PrincipalType::Role) (void)unwrap(c.iam().get_role(c.account(), who));
  iam::AttachmentFilter f;
  f.principal = iam::PrincipalRef{T, who};
  f.resource_group_id = "";
  auto atts = unwrap(c.iam().list_attachments(c.account(), f));
  auto& w = c.out();
  w.begin_wrapped("Policies", "Policy");
  for (const auto& a : atts) {
    auto p = c.iam().get_policy(c.account(), a.policy_type, a.policy_name);
    w.begin_object();
    w.field("PolicyName", a.policy_name);
    w.field("PolicyType", iam::to_string(a.policy_type));
    w.field("Description", p ? p->description : std::string());
    w.field("DefaultVersion", p ? p->default_version : std::string());
    w.field("AttachDate", iso_time(a.attached_at));
    w.end_object();
  }
  w.end_wrapped();
}
void ListEntitiesForPolicy(Call& c) {
  auto type = policy_type(c);
  auto name = c.req("PolicyName");
  c.authorize("ram:ListEntitiesForPolicy", policy_arn(c, name));
  (void)unwrap(c.iam().get_policy(c.account(), type, name));
  iam::AttachmentFilter f;
  f.policy_type = type;
  f.policy_name = name;
  f.resource_group_id = "";
  auto atts = unwrap(c.iam().list_attachments(c.account(), f));
  auto& w = c.out();
  for (auto [t, outer, inner, field] :
       {std::tuple{iam::PrincipalType::Group, "Groups", "Group", "GroupName"},
        std::tuple{iam::PrincipalType::User, "Users", "User", "UserName"},
        std::tuple{iam::PrincipalType::Role, "Roles", "Role", "RoleName"}}) {
    w.begin_wrapped(outer, inner);
    for (const auto& a : atts) {
      if (a.principal.type != t) continue;
      w.begin_object();
      w.field(field, a.principal.name);
      w.field("AttachDate", iso_time(a.attached_at));
      w.end_object();
    }
    w.end_wrapped();
  }
}

}  // namespace

void add_attachment_operations(Registry& r) {
  add(r, {
      {"AttachPolicyToUser", [](Call& c) { attach<iam::PrincipalType::User>(c, true); }},
      {"DetachPolicyFromUser", [](Call& c) { attach<iam::PrincipalType::User>(c, false); }},
      {"AttachPolicyToGroup", [](Call& c) { attach<iam::PrincipalType::Group>(c, true); }},
      {"DetachPolicyFromGroup", [](Call& c) { attach<iam::PrincipalType::Group>(c, false); }},
      {"AttachPolicyToRole", [](Call& c) { attach<iam::PrincipalType::Role>(c, true); }},
      {"DetachPolicyFromRole", [](Call& c) { attach<iam::PrincipalType::Role>(c, false); }},
      {"ListPoliciesForUser", list_policies_for<iam::PrincipalType::User>},
      {"ListPoliciesForGroup", list_policies_for<iam::PrincipalType::Group>},
      {"ListPoliciesForRole", list_policies_for<iam::PrincipalType::Role>},
      {"ListEntitiesForPolicy", ListEntitiesForPolicy},
  });
}

}  // namespace sluice::api::ram
