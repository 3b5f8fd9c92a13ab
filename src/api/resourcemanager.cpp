// ResourceManager 2020-03-31: resource groups, moving resources between them,
// and policy grants scoped to a resource group (or to the account: the
// ResourceGroupId is then the account id).
#include "api/ops_util.hpp"
#include "api/rpc.hpp"

namespace sluice::api {

namespace {

constexpr const char* kV = "2020-03-31";

std::string rg_arn(Call& c, std::string_view id) { return c.arn("resourcemanager", "resourcegroup/" + std::string(id)); }

void write_rg(JsonWriter& w, const iam::ResourceGroup& g) {
  w.begin_object();
  w.field("Id", g.id);
  w.field("Name", g.name);
  w.field("DisplayName", g.display_name);
  w.field("AccountId", g.account_id);
  w.field("Status", "OK");
  w.field("IsDefault", g.is_default);
  w.field("CreateDate", iso_time(g.created_at));
  w.end_object();
}

void CreateResourceGroup(Call& c) {
  auto name = c.req("Name");
  auto display = c.req("DisplayName");
  c.authorize("resourcemanager:CreateResourceGroup", rg_arn(c, "*"));
  auto g = unwrap(c.iam().create_resource_group(c.account(), name, display));
  c.out().key("ResourceGroup");
  write_rg(c.out(), g);
}
void GetResourceGroup(Call& c) {
  auto id = c.req("ResourceGroupId");
  c.authorize("resourcemanager:GetResourceGroup", rg_arn(c, id));
  c.out().key("ResourceGroup");
  write_rg(c.out(), unwrap(c.iam().get_resource_group(c.account(), id)));
}
void ListResourceGroups(Call& c) {
  c.authorize("resourcemanager:ListResourceGroups", rg_arn(c, "*"));
  auto all = unwrap(c.iam().list_resource_groups(c.account()));
  std::vector<iam::ResourceGroup> sel;
  auto name = c.opt("Name");
  auto id = c.opt("ResourceGroupId");
  for (auto& g : all)
    if ((!name || name->empty() || g.name == *name) && (!id || id->empty() || g.id == *id)) sel.push_back(std::move(g));
  auto& w = c.out();
  auto pg = number_page(c, sel.size(), w);
  w.begin_wrapped("ResourceGroups", "ResourceGroup");
  for (size_t i = pg.begin; i < pg.end; ++i) write_rg(w, sel[i]);
  w.end_wrapped();
}
void UpdateResourceGroup(Call& c) {
  auto id = c.req("ResourceGroupId");
  auto display = c.req("NewDisplayName");
  c.authorize("resourcemanager:UpdateResourceGroup", rg_arn(c, id));
  c.out().key("ResourceGroup");
  write_rg(c.out(), unwrap(c.iam().update_resource_group(c.account(), id, display)));
}
void DeleteResourceGroup(Call& c) {
  auto id = c.req("ResourceGroupId");
  c.authorize("resourcemanager:DeleteResourceGroup", rg_arn(c, id));
  auto g = unwrap(c.iam().get_resource_group(c.account(), id));
  unwrap(c.iam().delete_resource_group(c.account(), id));
  c.out().key("ResourceGroup");
  write_rg(c.out(), g);
}

void MoveResources(Call& c) {
  auto to = c.req("ResourceGroupId");
  auto items = c.list_of_objects("Resources");
  if (items.empty()) fail("MissingResources", 400, "Resources is mandatory for this action (Resources.1.ResourceId, ...).");
  if (items.size() > 50) fail("InvalidParameter.Resources", 400, "At most 50 resources can be moved at once.");
  c.authorize("resourcemanager:MoveResources", rg_arn(c, to));
  std::vector<iam::ResourceRef> refs;
  for (auto& m : items) {
    iam::ResourceRef r;
    r.id = m["ResourceId"];
    r.type = m["ResourceType"];
    r.service = m.count("Service") ? m["Service"] : "mq";
    r.region = m.count("RegionId") ? m["RegionId"] : c.iam().region();
    if (r.id.empty() || r.type.empty())
      fail("InvalidParameter.Resources", 400, "Each resource needs ResourceId and ResourceType (e.g. instance).");
    refs.push_back(std::move(r));
  }
  unwrap(c.iam().move_resources(c.account(), to, refs));
  auto& w = c.out();
  w.key("Responses").begin_array();
  for (const auto& r : refs) {
    w.begin_object();
    w.field("ResourceId", r.id);
    w.field("ResourceType", r.type);
    w.field("Service", r.service);
    w.field("RegionId", r.region);
    w.field("Status", "SUCCESS");
    w.field("RequestId", c.request_id());
    w.end_object();
  }
  w.end_array();
}

// PrincipalType IMSUser / IMSGroup / ServiceRole; PrincipalName "alice" or
// "alice@<alias>.onaliyun.com" (the cloud's form; the suffix is not checked).
iam::PrincipalRef principal(Call& c) {
  auto t = c.req("PrincipalType");
  auto n = c.req("PrincipalName");
  iam::PrincipalRef p;
  if (t == "IMSUser") p.type = iam::PrincipalType::User;
  else if (t == "IMSGroup") p.type = iam::PrincipalType::Group;
  else if (t == "ServiceRole") p.type = iam::PrincipalType::Role;
  else fail("InvalidParameter.PrincipalType", 400, "PrincipalType must be IMSUser, IMSGroup or ServiceRole.");
  p.name = n.substr(0, n.find('@'));
  return p;
}
const char* principal_type_name(iam::PrincipalType t) {
  return t == iam::PrincipalType::User ? "IMSUser" : t == iam::PrincipalType::Group ? "IMSGroup" : "ServiceRole";
}
iam::PolicyType policy_type(Call& c) {
  auto t = c.req("PolicyType");
  if (t == "System") return iam::PolicyType::System;
  if (t == "Custom") return iam::PolicyType::Custom;
  fail("InvalidParameter.PolicyType", 400, "PolicyType must be System or Custom.");
}
// The account id means Account scope ("").
std::string scope(Call& c, const std::string& rg) { return rg == c.account() ? std::string() : rg; }

void attach(Call& c, bool on) {
  auto rg = c.req("ResourceGroupId");
  auto type = policy_type(c);
  auto name = c.req("PolicyName");
  auto p = principal(c);
  c.authorize(on ? "resourcemanager:AttachPolicy" : "resourcemanager:DetachPolicy",
              scope(c, rg).empty() ? rg_arn(c, "*") : rg_arn(c, rg));
  if (on)
    unwrap(c.iam().attach_policy(c.account(), p, type, name, scope(c, rg)));
  else
    unwrap(c.iam().detach_policy(c.account(), p, type, name, scope(c, rg)));
}

void ListPolicyAttachments(Call& c) {
  c.authorize("resourcemanager:ListPolicyAttachments", rg_arn(c, "*"));
  iam::AttachmentFilter f;
  if (auto rg = c.opt("ResourceGroupId"); rg && !rg->empty()) f.resource_group_id = scope(c, *rg);
  if (c.opt("PrincipalType") && c.opt("PrincipalName")) f.principal = principal(c);
  if (auto t = c.opt("PolicyType"); t && !t->empty()) f.policy_type = policy_type(c);
  if (auto n = c.opt("PolicyName"); n && !n->empty()) f.policy_name = *n;
  auto atts = unwrap(c.iam().list_attachments(c.account(), f));
  auto acct = c.iam().get_account(c.account());
  std::string alias = acct ? acct->alias : c.account();
  auto& w = c.out();
  auto pg = number_page(c, atts.size(), w);
  w.begin_wrapped("PolicyAttachments", "PolicyAttachment");
  for (size_t i = pg.begin; i < pg.end; ++i) {
    const auto& a = atts[i];
    auto pol = c.iam().get_policy(c.account(), a.policy_type, a.policy_name);
    w.begin_object();
    w.field("PrincipalName", a.principal.type == iam::PrincipalType::Role
                                 ? a.principal.name + "@role." + alias + ".onaliyun.com"
                                 : a.principal.name + "@" + alias + ".onaliyun.com");
    w.field("PrincipalType", principal_type_name(a.principal.type));
    w.field("PolicyName", a.policy_name);
    w.field("PolicyType", iam::to_string(a.policy_type));
    w.field("Description", pol ? pol->description : std::string());
    w.field("ResourceGroupId", a.resource_group_id.empty() ? c.account() : a.resource_group_id);
    w.field("AttachDate", iso_time(a.attached_at));
    w.end_object();
  }
  w.end_wrapped();
}

}  // namespace

void add_resourcemanager_operations(Registry& r) {
  r.add("ResourceManager", kV, "CreateResourceGroup", CreateResourceGroup);
  r.add("ResourceManager", kV, "GetResourceGroup", GetResourceGroup);
  r.add("ResourceManager", kV, "ListResourceGroups", ListResourceGroups);
  r.add("ResourceManager", kV, "UpdateResourceGroup", UpdateResourceGroup);
  r.add("ResourceManager", kV, "DeleteResourceGroup", DeleteResourceGroup);
  r.add("ResourceManager", kV, "MoveResources", MoveResources);
  r.add("ResourceManager", kV, "AttachPolicy", [](Call& c) { attach(c, true); });
  r.add("ResourceManager", kV, "DetachPolicy", [](Call& c) { attach(c, false); });
  r.add("ResourceManager", kV, "ListPolicyAttachments", ListPolicyAttachments);
}

}  // namespace sluice::api
