// RAM roles (assumed through STS AssumeRole, sts.cpp) and their trust policies.
#include "api/ops_util.hpp"
#include "api/ram_internal.hpp"

namespace sluice::api::ram {

namespace {

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

}  // namespace

void add_role_operations(Registry& r) {
  add(r, {
      {"CreateRole", CreateRole},
      {"GetRole", GetRole},
      {"UpdateRole", UpdateRole},
      {"DeleteRole", DeleteRole},
      {"ListRoles", ListRoles},
  });
}

}  // namespace sluice::api::ram
