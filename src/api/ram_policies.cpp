// Ram 2015-05-01: users, login profiles, access keys, groups, roles, policies
// and their versions, attachments, account summary. Each operation is
// authorized on its own action (ram:<Action>) and RAM resource ARN.
#include <algorithm>

#include "api/ops_util.hpp"
#include "api/rpc.hpp"

namespace sluice::api {

namespace {

constexpr const char* kV = "2015-05-01";

std::string user_arn(Call& c, std::string_view n) { return c.arn("ram", "user/" + std::string(n)); }
std::string group_arn(Call& c, std::string_view n) { return c.arn("ram", "group/" + std::string(n)); }
std::string role_arn(Call& c, std::string_view n) { return c.arn("ram", "role/" + std::string(n)); }
std::string policy_arn(Call& c, std::string_view n) { return c.arn("ram", "policy/" + std::string(n)); }

void write_user(JsonWriter& w, const iam::User& u, bool full = true) {
  w.begin_object();
  w.field("UserId", u.user_id);
  w.field("UserName", u.name);
  w.field("DisplayName", u.display_name);
  w.field("Comments", u.comments);
  w.field("MobilePhone", "");
  w.field("Email", "");
  w.field("CreateDate", iso_time(u.created_at));
  if (full) w.field("UpdateDate", iso_time(u.updated_at));
  w.end_object();
}

void write_group(JsonWriter& w, const iam::Group& g) {
  w.begin_object();
  w.field("GroupId", g.group_id);
  w.field("GroupName", g.name);
  w.field("Comments", g.comments);
  w.field("CreateDate", iso_time(g.created_at));
  w.end_object();
}

void write_role(JsonWriter& w, const iam::Role& r, bool with_doc) {
  w.begin_object();
  w.field("RoleId", r.role_id);
  w.field("RoleName", r.name);
  w.field("Arn", r.arn);
  w.field("Description", r.description);
  if (with_doc) w.field("AssumeRolePolicyDocument", r.trust_policy);
  w.field("MaxSessionDuration", r.max_session_duration);
  w.field("CreateDate", iso_time(r.created_at));
  w.end_object();
}

void write_policy(JsonWriter& w, const iam::Policy& p) {
  w.begin_object();
  w.field("PolicyName", p.name);
  w.field("PolicyType", iam::to_string(p.type));
  w.field("Description", p.description);
  w.field("DefaultVersion", p.default_version);
  w.field("AttachmentCount", p.attachment_count);
  w.field("CreateDate", iso_time(p.created_at));
  w.end_object();
}

void write_version(JsonWriter& w, const iam::PolicyVersion& v) {
  w.begin_object();
  w.field("VersionId", v.version_id);
  w.field("IsDefaultVersion", v.is_default);
  w.field("PolicyDocument", v.document);
  w.field("CreateDate", iso_time(v.created_at));
  w.end_object();
}

iam::PolicyType policy_type(Call& c, bool required = true) {
  auto t = required ? std::optional<std::string>(c.req("PolicyType")) : c.opt("PolicyType");
  if (!t || *t == "Custom") return iam::PolicyType::Custom;
  if (*t == "System") return iam::PolicyType::System;
  fail("InvalidParameter.PolicyType", 400, "PolicyType must be System or Custom, got \"" + *t + "\".");
}

// ---- users ----
void CreateUser(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:CreateUser", user_arn(c, name));
  auto u = unwrap(c.iam().create_user(c.account(), {name, c.opt("DisplayName").value_or(""), c.opt("Comments").value_or("")}));
  c.out().key("User");
  write_user(c.out(), u, false);
}
void GetUser(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:GetUser", user_arn(c, name));
  auto u = unwrap(c.iam().get_user(c.account(), name));
  c.out().key("User");
  write_user(c.out(), u);
}
void UpdateUser(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:UpdateUser", user_arn(c, name));
  auto u = unwrap(c.iam().update_user(c.account(), name, c.opt("NewUserName"), c.opt("NewDisplayName"), c.opt("NewComments")));
  c.out().key("User");
  write_user(c.out(), u);
}
void DeleteUser(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:DeleteUser", user_arn(c, name));
  unwrap(c.iam().delete_user(c.account(), name));
}
void ListUsers(Call& c) {
  c.authorize("ram:ListUsers", user_arn(c, "*"));
  marker_list(c, unwrap(c.iam().list_users(c.account())), "Users", "User",
              [](JsonWriter& w, const iam::User& u) { write_user(w, u); });
}

// ---- login profiles ----
void write_profile(JsonWriter& w, const iam::LoginProfile& p) {
  w.key("LoginProfile").begin_object();
  w.field("UserName", p.user_name);
  w.field("PasswordResetRequired", p.password_reset_required);
  w.field("MFABindRequired", p.mfa_bind_required);
  w.field("CreateDate", iso_time(p.created_at));
  w.end_object();
}
void CreateLoginProfile(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:CreateLoginProfile", user_arn(c, name));
  auto p = unwrap(c.iam().create_login_profile(c.account(), name, c.req("Password"),
                                               c.opt_bool("PasswordResetRequired").value_or(false),
                                               c.opt_bool("MFABindRequired").value_or(false)));
  write_profile(c.out(), p);
}
void GetLoginProfile(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:GetLoginProfile", user_arn(c, name));
  write_profile(c.out(), unwrap(c.iam().get_login_profile(c.account(), name)));
}
void UpdateLoginProfile(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:UpdateLoginProfile", user_arn(c, name));
  write_profile(c.out(), unwrap(c.iam().update_login_profile(c.account(), name, c.opt("Password"),
                                                             c.opt_bool("PasswordResetRequired"),
                                                             c.opt_bool("MFABindRequired"))));
}
void DeleteLoginProfile(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:DeleteLoginProfile", user_arn(c, name));
  unwrap(c.iam().delete_login_profile(c.account(), name));
}

// ---- access keys ----
// No UserName: a RAM user acts on its own keys, the root account on the root keys.
std::optional<std::string> key_owner(Call& c, std::string& resource) {
  auto u = c.opt("UserName");
  if ((!u || u->empty()) && c.principal().kind == iam::Principal::Kind::User) u = c.principal().name;
  if (!u || u->empty()) {
    if (c.principal().kind == iam::Principal::Kind::RoleSession)
      fail("MissingUserName", 400, "UserName is mandatory for this action when called with STS credentials.");
    resource = c.arn("ram", "root");
    return std::nullopt;
  }
  resource = user_arn(c, *u);
  return u;
}
void CreateAccessKey(Call& c) {
  std::string res;
  auto owner = key_owner(c, res);
  c.authorize("ram:CreateAccessKey", res);
  auto k = unwrap(c.iam().create_access_key(c.account(), owner));
  auto& w = c.out();
  w.key("AccessKey").begin_object();
  w.field("AccessKeyId", k.key.id);
  w.field("AccessKeySecret", k.secret);
  w.field("Status", iam::to_string(k.key.status));
  w.field("CreateDate", iso_time(k.key.created_at));
  w.end_object();
}
iam::KeyStatus key_status(Call& c) {
  auto s = c.req("Status");
  if (s == "Active") return iam::KeyStatus::Active;
  if (s == "Inactive") return iam::KeyStatus::Inactive;
  fail("InvalidParameter.Status", 400, "Status must be Active or Inactive, got \"" + s + "\".");
}
void UpdateAccessKey(Call& c) {
  std::string res;
  auto owner = key_owner(c, res);
  auto id = c.req("UserAccessKeyId");
  auto st = key_status(c);
  c.authorize("ram:UpdateAccessKey", res);
  unwrap(c.iam().update_access_key(c.account(), owner, id, st));
}
void DeleteAccessKey(Call& c) {
  std::string res;
  auto owner = key_owner(c, res);
  auto id = c.req("UserAccessKeyId");
  c.authorize("ram:DeleteAccessKey", res);
  unwrap(c.iam().delete_access_key(c.account(), owner, id));
}
void ListAccessKeys(Call& c) {
  std::string res;
  auto owner = key_owner(c, res);
  c.authorize("ram:ListAccessKeys", res);
  auto keys = unwrap(c.iam().list_access_keys(c.account(), owner));
  auto& w = c.out();
  w.begin_wrapped("AccessKeys", "AccessKey");
  for (const auto& k : keys) {
    w.begin_object();
    w.field("AccessKeyId", k.id);
    w.field("Status", iam::to_string(k.status));
    w.field("CreateDate", iso_time(k.created_at));
    w.end_object();
  }
  w.end_wrapped();
}

// ---- groups ----
void CreateGroup(Call& c) {
  auto name = c.req("GroupName");
  c.authorize("ram:CreateGroup", group_arn(c, name));
  auto g = unwrap(c.iam().create_group(c.account(), name, c.opt("Comments").value_or("")));
  c.out().key("Group");
  write_group(c.out(), g);
}
void GetGroup(Call& c) {
  auto name = c.req("GroupName");
  c.authorize("ram:GetGroup", group_arn(c, name));
  c.out().key("Group");
  write_group(c.out(), unwrap(c.iam().get_group(c.account(), name)));
}
void UpdateGroup(Call& c) {
  auto name = c.req("GroupName");
  c.authorize("ram:UpdateGroup", group_arn(c, name));
  c.out().key("Group");
  write_group(c.out(), unwrap(c.iam().update_group(c.account(), name, c.opt("NewGroupName"), c.opt("NewComments"))));
}
void DeleteGroup(Call& c) {
  auto name = c.req("GroupName");
  c.authorize("ram:DeleteGroup", group_arn(c, name));
  unwrap(c.iam().delete_group(c.account(), name));
}
void ListGroups(Call& c) {
  c.authorize("ram:ListGroups", group_arn(c, "*"));
  marker_list(c, unwrap(c.iam().list_groups(c.account())), "Groups", "Group",
              [](JsonWriter& w, const iam::Group& g) { write_group(w, g); });
}
void AddUserToGroup(Call& c) {
  auto g = c.req("GroupName"), u = c.req("UserName");
  c.authorize("ram:AddUserToGroup", group_arn(c, g));
  unwrap(c.iam().add_user_to_group(c.account(), g, u));
}
void RemoveUserFromGroup(Call& c) {
  auto g = c.req("GroupName"), u = c.req("UserName");
  c.authorize("ram:RemoveUserFromGroup", group_arn(c, g));
  unwrap(c.iam().remove_user_from_group(c.account(), g, u));
}
void ListGroupsForUser(Call& c) {
  auto u = c.req("UserName");
  c.authorize("ram:ListGroupsForUser", user_arn(c, u));
  auto gs = unwrap(c.iam().list_groups_for_user(c.account(), u));
  auto& w = c.out();
  w.begin_wrapped("Groups", "Group");
  for (const auto& g : gs) {
    w.begin_object();
    w.field("GroupName", g.name);
    w.field("Comments", g.comments);
    w.field("JoinDate", iso_time(g.created_at));
    w.end_object();
  }
  w.end_wrapped();
}
void ListUsersForGroup(Call& c) {
  auto g = c.req("GroupName");
  c.authorize("ram:ListUsersForGroup", group_arn(c, g));
  marker_list(c, unwrap(c.iam().list_users_for_group(c.account(), g)), "Users", "User",
              [](JsonWriter& w, const iam::User& u) {
                w.begin_object();
                w.field("UserName", u.name);
                w.field("DisplayName", u.display_name);
                w.field("JoinDate", iso_time(u.created_at));
                w.end_object();
              });
}

// ---- roles ----
// A trust policy that lets principals of other accounts assume the role is
// legitimate (that is what cross-account roles are for) but worth a second look,
// so CreateRole and UpdateRole say so in the answer: "TrustWarnings", a list of
// {"Code":"CrossAccountTrust","Account":"<id>","Message":...}, one per other
// account (issue #14, finding 12; the console shows each Message). A trust policy
// that admits every account (a wildcard) is refused outright (iam_roles.cpp).
void write_trust_warnings(Call& c, const iam::Role& r) {
  auto foreign = iam::trusted_foreign_accounts(c.account(), r.trust_policy);
  if (foreign.empty()) return;
  auto& w = c.out();
  w.key("TrustWarnings").begin_array();
  for (const auto& a : foreign) {
    w.begin_object();
    w.field("Code", "CrossAccountTrust");
    w.field("Account", a);
    w.field("Message", "Principals of account " + a + " may assume the role " + r.arn +
                           " (its trust policy names that account); every such AssumeRole is audited in both "
                           "accounts as CrossAccountAssumeRole.");
    w.end_object();
  }
  w.end_array();
}
void CreateRole(Call& c) {
  auto name = c.req("RoleName");
  auto doc = c.req("AssumeRolePolicyDocument");
  c.authorize("ram:CreateRole", role_arn(c, name));
  std::optional<int64_t> max;
  if (c.opt("MaxSessionDuration")) max = c.opt_int("MaxSessionDuration", 3600, 3600, 43200);
  auto r = unwrap(c.iam().create_role(c.account(), name, doc, c.opt("Description").value_or(""), max));
  c.out().key("Role");
  write_role(c.out(), r, true);
  write_trust_warnings(c, r);
}
void GetRole(Call& c) {
  auto name = c.req("RoleName");
  c.authorize("ram:GetRole", role_arn(c, name));
  c.out().key("Role");
  write_role(c.out(), unwrap(c.iam().get_role(c.account(), name)), true);
}
void UpdateRole(Call& c) {
  auto name = c.req("RoleName");
  c.authorize("ram:UpdateRole", role_arn(c, name));
  std::optional<int64_t> max;
  if (c.opt("NewMaxSessionDuration")) max = c.opt_int("NewMaxSessionDuration", 3600, 3600, 43200);
  auto r = unwrap(c.iam().update_role(c.account(), name, c.opt("NewAssumeRolePolicyDocument"), max,
                                      c.opt("NewDescription")));
  c.out().key("Role");
  write_role(c.out(), r, true);
  write_trust_warnings(c, r);
}
void DeleteRole(Call& c) {
  auto name = c.req("RoleName");
  c.authorize("ram:DeleteRole", role_arn(c, name));
  unwrap(c.iam().delete_role(c.account(), name));
}
void ListRoles(Call& c) {
  c.authorize("ram:ListRoles", role_arn(c, "*"));
  marker_list(c, unwrap(c.iam().list_roles(c.account())), "Roles", "Role",
              [](JsonWriter& w, const iam::Role& r) { write_role(w, r, false); });
}

// ---- policies ----
void CreatePolicy(Call& c) {
  auto name = c.req("PolicyName");
  auto doc = c.req("PolicyDocument");
  c.authorize("ram:CreatePolicy", policy_arn(c, name));
  auto p = unwrap(c.iam().create_policy(c.account(), name, doc, c.opt("Description").value_or("")));
  c.out().key("Policy");
  write_policy(c.out(), p);
}
void GetPolicy(Call& c) {
  auto name = c.req("PolicyName");
  auto type = policy_type(c);
  c.authorize("ram:GetPolicy", policy_arn(c, name));
  auto p = unwrap(c.iam().get_policy(c.account(), type, name));
  auto v = unwrap(c.iam().get_policy_version(c.account(), type, name, p.default_version));
  c.out().key("Policy");
  write_policy(c.out(), p);
  c.out().key("DefaultPolicyVersion");
  write_version(c.out(), v);
}
void DeletePolicy(Call& c) {
  auto name = c.req("PolicyName");
  c.authorize("ram:DeletePolicy", policy_arn(c, name));
  unwrap(c.iam().delete_policy(c.account(), name));
}
void ListPolicies(Call& c) {
  std::optional<iam::PolicyType> t;
  if (c.opt("PolicyType")) t = policy_type(c);
  c.authorize("ram:ListPolicies", policy_arn(c, "*"));
  marker_list(c, unwrap(c.iam().list_policies(c.account(), t)), "Policies", "Policy",
              [](JsonWriter& w, const iam::Policy& p) { write_policy(w, p); });
}
void CreatePolicyVersion(Call& c) {
  auto name = c.req("PolicyName");
  auto doc = c.req("PolicyDocument");
  c.authorize("ram:CreatePolicyVersion", policy_arn(c, name));
  auto rotate = c.opt("RotateStrategy").value_or("None");
  if (rotate != "None" && rotate != "DeleteOldestNonDefaultVersionWhenLimitExceeded")
    fail("InvalidParameter.RotateStrategy", 400,
         "RotateStrategy must be None or DeleteOldestNonDefaultVersionWhenLimitExceeded.");
  auto v = unwrap(c.iam().create_policy_version(c.account(), name, doc, c.opt_bool("SetAsDefault").value_or(false),
                                                rotate != "None"));
  c.out().key("PolicyVersion");
  write_version(c.out(), v);
}
void GetPolicyVersion(Call& c) {
  auto name = c.req("PolicyName");
  auto type = policy_type(c);
  auto id = c.req("VersionId");
  c.authorize("ram:GetPolicyVersion", policy_arn(c, name));
  c.out().key("PolicyVersion");
  write_version(c.out(), unwrap(c.iam().get_policy_version(c.account(), type, name, id)));
}
void DeletePolicyVersion(Call& c) {
  auto name = c.req("PolicyName");
  auto id = c.req("VersionId");
  c.authorize("ram:DeletePolicyVersion", policy_arn(c, name));
  unwrap(c.iam().delete_policy_version(c.account(), name, id));
}
void ListPolicyVersions(Call& c) {
  auto name = c.req("PolicyName");
  auto type = policy_type(c);
  c.authorize("ram:ListPolicyVersions", policy_arn(c, name));
  auto vs = unwrap(c.iam().list_policy_versions(c.account(), type, name));
  auto& w = c.out();
  w.begin_wrapped("PolicyVersions", "PolicyVersion");
  for (const auto& v : vs) write_version(w, v);
  w.end_wrapped();
}
void SetDefaultPolicyVersion(Call& c) {
  auto name = c.req("PolicyName");
  auto id = c.req("VersionId");
  c.authorize("ram:SetDefaultPolicyVersion", policy_arn(c, name));
  unwrap(c.iam().set_default_policy_version(c.account(), name, id));
}

// ---- attachments ----
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
  w.end_object();
}

void GetAccountAlias(Call& c) {
  c.authorize("ram:GetAccountAlias", c.arn("ram", "*"));
  auto a = unwrap(c.iam().get_account(c.account()));
  c.out().field("AccountAlias", a.alias);
}

}  // namespace

void add_ram_operations(Registry& r) {
  struct {
    const char* name;
    OpFn fn;
  } ops[] = {
      {"CreateUser", CreateUser}, {"GetUser", GetUser}, {"UpdateUser", UpdateUser}, {"DeleteUser", DeleteUser},
      {"ListUsers", ListUsers}, {"CreateLoginProfile", CreateLoginProfile}, {"GetLoginProfile", GetLoginProfile},
      {"UpdateLoginProfile", UpdateLoginProfile}, {"DeleteLoginProfile", DeleteLoginProfile},
      {"CreateAccessKey", CreateAccessKey}, {"UpdateAccessKey", UpdateAccessKey},
      {"DeleteAccessKey", DeleteAccessKey}, {"ListAccessKeys", ListAccessKeys}, {"CreateGroup", CreateGroup},
      {"GetGroup", GetGroup}, {"UpdateGroup", UpdateGroup}, {"DeleteGroup", DeleteGroup}, {"ListGroups", ListGroups},
      {"AddUserToGroup", AddUserToGroup}, {"RemoveUserFromGroup", RemoveUserFromGroup},
      {"ListGroupsForUser", ListGroupsForUser}, {"ListUsersForGroup", ListUsersForGroup},
      {"CreateRole", CreateRole}, {"GetRole", GetRole}, {"UpdateRole", UpdateRole}, {"DeleteRole", DeleteRole},
      {"ListRoles", ListRoles}, {"CreatePolicy", CreatePolicy}, {"GetPolicy", GetPolicy},
      {"DeletePolicy", DeletePolicy}, {"ListPolicies", ListPolicies}, {"CreatePolicyVersion", CreatePolicyVersion},
      {"GetPolicyVersion", GetPolicyVersion}, {"DeletePolicyVersion", DeletePolicyVersion},
      {"ListPolicyVersions", ListPolicyVersions}, {"SetDefaultPolicyVersion", SetDefaultPolicyVersion},
      {"AttachPolicyToUser", [](Call& c) { attach<iam::PrincipalType::User>(c, true); }},
      {"DetachPolicyFromUser", [](Call& c) { attach<iam::PrincipalType::User>(c, false); }},
      {"AttachPolicyToGroup", [](Call& c) { attach<iam::PrincipalType::Group>(c, true); }},
      {"DetachPolicyFromGroup", [](Call& c) { attach<iam::PrincipalType::Group>(c, false); }},
      {"AttachPolicyToRole", [](Call& c) { attach<iam::PrincipalType::Role>(c, true); }},
      {"DetachPolicyFromRole", [](Call& c) { attach<iam::PrincipalType::Role>(c, false); }},
      {"ListPoliciesForUser", list_policies_for<iam::PrincipalType::User>},
      {"ListPoliciesForGroup", list_policies_for<iam::PrincipalType::Group>},
      {"ListPoliciesForRole", list_policies_for<iam::PrincipalType::Role>},
      {"ListEntitiesForPolicy", ListEntitiesForPolicy}, {"GetAccountSummary", GetAccountSummary},
      {"GetAccountAlias", GetAccountAlias},
  };
  for (const auto& o : ops) r.add("Ram", kV, o.name, o.fn);
}

}  // namespace sluice::api
