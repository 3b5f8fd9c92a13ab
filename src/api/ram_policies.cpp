// RAM policies (custom ones created here, system ones read) and their versions.
#include "api/ops_util.hpp"
#include "api/ram_internal.hpp"

namespace sluice::api::ram {

namespace {

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
  const bool cascading = c.opt_bool("CascadingDelete").value_or(false);
  c.authorize("ram:DeletePolicy", policy_arn(c, name));
  unwrap(c.iam().delete_policy(c.account(), name, cascading));
}
void UpdatePolicyDescription(Call& c) {
  auto name = c.req("PolicyName");
  auto desc = c.opt("NewDescription").value_or("");
  c.authorize("ram:UpdatePolicyDescription", policy_arn(c, name));
  auto p = unwrap(c.iam().update_policy_description(c.account(), name, desc));
  auto& w = c.out();
  w.key("Policy").begin_object();
  w.field("PolicyName", p.name);
  w.field("PolicyType", iam::to_string(p.type));
  w.field("Description", p.description);
  w.field("DefaultVersion", p.default_version);
  w.field("CreateDate", iso_time(p.created_at));
  w.field("UpdateDate", iso_time(c.iam().now()));
  w.end_object();
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

}  // namespace

void add_policy_operations(Registry& r) {
  add(r, {
      {"CreatePolicy", CreatePolicy},
      {"GetPolicy", GetPolicy},
      {"DeletePolicy", DeletePolicy},
      {"UpdatePolicyDescription", UpdatePolicyDescription},
      {"ListPolicies", ListPolicies},
      {"CreatePolicyVersion", CreatePolicyVersion},
      {"GetPolicyVersion", GetPolicyVersion},
      {"DeletePolicyVersion", DeletePolicyVersion},
      {"ListPolicyVersions", ListPolicyVersions},
      {"SetDefaultPolicyVersion", SetDefaultPolicyVersion},
  });
}

}  // namespace sluice::api::ram
