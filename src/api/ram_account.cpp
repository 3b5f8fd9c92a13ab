// The RAM account: its summary (counts and quotas) and alias.
#include "api/ram_internal.hpp"

namespace sluice::api::ram {

namespace {

void GetAccountSummary(Call& c) {
  c.authorize("ram:GetAccountSummary", c.arn("ram", "*"));
  auto& iam = c.iam();
  const auto& lim = iam.limits();
  auto users = unwrap(iam.list_users(c.account()));
  auto groups = unwrap(iam.list_groups(c.account()));
  auto roles = unwrap(iam.list_roles(c.account()));
  auto policies = unwrap(iam.list_policies(c.account(), iam::PolicyType::Custom));
  auto atts = unwrap(iam.list_attachments(c.account()));
  size_t keys = 0;
  for (const auto& u : users) keys += unwrap(iam.list_access_keys(c.account(), u.name)).size();
  auto& w = c.out();
  w.key("SummaryMap").begin_object();
  w.field("Users", users.size());
  w.field("UsersQuota", lim.users_per_account);
  w.field("Groups", groups.size());
  w.field("GroupsQuota", lim.groups_per_account);
  w.field("Roles", roles.size());
  w.field("RolesQuota", lim.roles_per_account);
  w.field("Policies", policies.size());
  w.field("PoliciesQuota", lim.custom_policies_per_account);
  w.field("AttachedPoliciesPerUserQuota", lim.custom_policies_per_principal);
  w.field("AttachedSystemPoliciesPerUserQuota", lim.system_policies_per_principal);
  w.field("GroupsPerUserQuota", lim.groups_per_user);
  w.field("AccessKeysPerUserQuota", lim.access_keys_per_user);
  w.field("VersionsPerPolicyQuota", lim.versions_per_policy);
  w.field("PolicySizeQuota", lim.policy_document_max_chars);
  w.field("AccessKeys", keys);
  w.field("AttachedPolicies", atts.size());
  // The fields Ims 2019-08-15's model adds (issue 21): MFA devices, and the
  // per-group / per-role attachment quotas (the same limits as per user here).
  auto mfa = unwrap(iam.list_virtual_mfa_devices(c.account()));
  size_t in_use = 0;
  for (const auto& d : mfa) in_use += d.user_name ? 1 : 0;
  w.field("MFADevices", mfa.size());
  w.field("MFADevicesInUse", in_use);
  w.field("VirtualMFADevicesQuota", lim.users_per_account);
  w.field("AttachedPoliciesPerGroupQuota", lim.custom_policies_per_principal);
  w.field("AttachedPoliciesPerRoleQuota", lim.custom_policies_per_principal);
  w.field("AttachedSystemPoliciesPerGroupQuota", lim.system_policies_per_principal);
  w.field("AttachedSystemPoliciesPerRoleQuota", lim.system_policies_per_principal);
  w.end_object();
}

void GetAccountAlias(Call& c) {
  c.authorize("ram:GetAccountAlias", c.arn("ram", "*"));
  auto a = unwrap(c.iam().get_account(c.account()));
  c.out().field("AccountAlias", a.alias);
}

// The cloud's rule and uniqueness are the IAM service's (iam_alias.cpp). A RAM
// user's sign-in and principal name follow the new alias at once.
void SetAccountAlias(Call& c) {
  auto alias = c.req("AccountAlias");
  c.authorize("ram:SetAccountAlias", c.arn("ram", "*"));
  unwrap(c.iam().set_account_alias(c.account(), alias));
}

// Back to the default alias, the account id.
void ClearAccountAlias(Call& c) {
  c.authorize("ram:ClearAccountAlias", c.arn("ram", "*"));
  unwrap(c.iam().clear_account_alias(c.account()));
}

}  // namespace

void add_account_operations(Registry& r) {
  add(r, {
      {"GetAccountSummary", GetAccountSummary},
      {"GetAccountAlias", GetAccountAlias},
      {"SetAccountAlias", SetAccountAlias},
      {"ClearAccountAlias", ClearAccountAlias},
  });
}

}  // namespace sluice::api::ram
