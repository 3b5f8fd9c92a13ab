// ResourceManager 2020-03-31: resource groups, moving resources between them,
// and policy grants scoped to a resource group (or to the account: the
// ResourceGroupId is then the account id).
#include <algorithm>

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
// Filters, as the cloud documents them: Name and DisplayName match fuzzily (a
// substring), ResourceGroupIds (prevailing over ResourceGroupId) list the groups
// wanted, Status is one of Creating / OK / PendingDelete (every group here is OK).
void ListResourceGroups(Call& c) {
  c.authorize("resourcemanager:ListResourceGroups", rg_arn(c, "*"));
  auto all = unwrap(c.iam().list_resource_groups(c.account()));
  std::vector<iam::ResourceGroup> sel;
  const std::string name = c.opt("Name").value_or(""), display = c.opt("DisplayName").value_or("");
  std::vector<std::string> ids = c.list("ResourceGroupIds");
  if (ids.empty())
    if (auto id = c.opt("ResourceGroupId"); id && !id->empty()) ids.push_back(*id);
  const std::string status = c.opt("Status").value_or("");
  if (!status.empty() && status != "OK" && status != "Creating" && status != "PendingDelete")
    fail("InvalidParameter.Status", 400, "Status must be Creating, OK or PendingDelete, got \"" + status + "\".");
  for (auto& g : all) {
    if (!name.empty() && g.name.find(name) == std::string::npos) continue;
    if (!display.empty() && g.display_name.find(display) == std::string::npos) continue;
    if (!ids.empty() && std::find(ids.begin(), ids.end(), g.id) == ids.end()) continue;
    if (!status.empty() && status != "OK") continue;
    sel.push_back(std::move(g));
  }
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

iam::PrincipalType principal_type(const std::string& t) {
  if (t == "IMSUser") return iam::PrincipalType::User;
  if (t == "IMSGroup") return iam::PrincipalType::Group;
  if (t == "ServiceRole") return iam::PrincipalType::Role;
  fail("InvalidParameter.PrincipalType", 400, "PrincipalType must be IMSUser, IMSGroup or ServiceRole.");
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// PrincipalName: "alice", or with a suffix that names this account:
// "alice@<accountId>", "alice@<alias>", "alice@<accountId or alias>.onaliyun.com"
// (the cloud's form) and, for a ServiceRole, "alice@role.<accountId or
// alias>.onaliyun.com" (the form ListPolicyAttachments answers). A suffix naming
// anything else is another account's principal, never this account's (issue #14,
// finding 9: the suffix used to be dropped, so "user@another-account.onaliyun.com"
// bound the local user of that name). Returns the local name, or nullopt for
// another account's principal.
std::optional<std::string> local_principal_name(Call& c, iam::PrincipalType type, const std::string& full) {
  auto at = full.find('@');
  if (at == std::string::npos) return full;
  const std::string name = full.substr(0, at);
  std::string suffix = lower(full.substr(at + 1));
  constexpr std::string_view kDomain = ".onaliyun.com";
  if (suffix.size() > kDomain.size() && suffix.ends_with(kDomain)) {
    suffix.resize(suffix.size() - kDomain.size());
    if (type == iam::PrincipalType::Role && suffix.starts_with("role.")) suffix.erase(0, 5);
  }
  auto acct = c.iam().get_account(c.account());
  if (!name.empty() && (suffix == c.account() || (acct && !acct->alias.empty() && suffix == acct->alias))) return name;
  return std::nullopt;
}

// Another account's principal is answered as one that does not exist here:
// EntityNotExist.User / .Group / .Role, as for an unknown local name.
[[noreturn]] void no_such_principal(Call& c, iam::PrincipalType type, const std::string& full) {
  const char* kind = type == iam::PrincipalType::User ? "User" : type == iam::PrincipalType::Group ? "Group" : "Role";
  auto acct = c.iam().get_account(c.account());
  fail(std::string("EntityNotExist.") + kind, 404,
       std::string("The ") + lower(kind) + " \"" + full +
           "\" does not exist in this account (a principal name's suffix, if any, must name this account: " +
           c.account() + (acct && !acct->alias.empty() ? " or " + acct->alias : std::string()) +
           ", optionally followed by .onaliyun.com).");
}

// PrincipalType IMSUser / IMSGroup / ServiceRole and PrincipalName (above).
iam::PrincipalRef principal(Call& c) {
  auto t = c.req("PrincipalType");
  auto n = c.req("PrincipalName");
  iam::PrincipalRef p;
  p.type = principal_type(t);
  auto local = local_principal_name(c, p.type, n);
  if (!local) no_such_principal(c, p.type, n);
  p.name = std::move(*local);
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
  // PrincipalType and PrincipalName filter together or each on its own (before,
  // one without the other was ignored and the whole list answered). Another
  // account's principal has no attachments here: the list is empty.
  const std::string ptype = c.opt("PrincipalType").value_or(""), pname = c.opt("PrincipalName").value_or("");
  std::optional<iam::PrincipalType> type;
  if (!ptype.empty()) type = principal_type(ptype);
  if (auto t = c.opt("PolicyType"); t && !t->empty()) f.policy_type = policy_type(c);
  if (auto n = c.opt("PolicyName"); n && !n->empty()) f.policy_name = *n;
  auto atts = unwrap(c.iam().list_attachments(c.account(), f));
  if (type || !pname.empty()) {
    std::vector<iam::Attachment> keep;
    for (auto& a : atts) {
      if (type && a.principal.type != *type) continue;
      if (!pname.empty() && a.principal.name != local_principal_name(c, a.principal.type, pname)) continue;
      keep.push_back(std::move(a));
    }
    atts = std::move(keep);
  }
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
