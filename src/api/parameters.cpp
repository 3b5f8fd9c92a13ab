// The parameter contract of every operation (parameters.hpp). Sources of the
// cloud's parameter lists: the request models of @alicloud/ram20150501 1.2.1,
// @alicloud/resourcemanager20200331 2.6.1 and @alicloud/sts20150401 1.2.0 (the
// packages in tests/node); for OnsMqtt 2020-04-20 the request models of the
// cloud's TypeScript SDK (aliyun/alibabacloud-typescript-sdk,
// onsmqtt-20200420/src/client.ts) and the API reference pages
// (help.aliyun.com .../api-onsmqtt-2020-04-20-listinstances, -tagresources,
// -untagresources); for Actiontrail 2020-07-06 LookupEventsRequest of the same
// repository; Ons OpenOnsService takes no parameters. Operations marked
// "extension" do not exist in the cloud: all their parameters are Sluice's.
#include "api/parameters.hpp"

#include <map>

#include "mq/settings.hpp"

namespace sluice::api {

bool ParameterContract::implements(std::string_view name) const {
  for (const auto& n : implemented)
    if (n == name) return true;
  return false;
}
const ParamRule* ParameterContract::refusal(std::string_view name) const {
  for (const auto& r : refused)
    if (r.name == name) return &r;
  return nullptr;
}
const ParamRule* ParameterContract::ignoral(std::string_view name) const {
  for (const auto& r : ignored)
    if (r.name == name) return &r;
  return nullptr;
}

std::string_view parameter_base(std::string_view name) { return name.substr(0, name.find('.')); }

bool is_system_param(std::string_view name) {
  static constexpr std::string_view kSystemParams[] = {
      "Action",          "Version",          "Format",         "AccessKeyId", "Signature",     "SignatureMethod",
      "SignatureVersion", "SignatureNonce",  "Timestamp",      "SecurityToken", "SignatureType", "RegionId"};
  for (std::string_view s : kSystemParams)
    if (name == s) return true;
  return false;
}

namespace {

using Names = std::vector<std::string>;
using Rules = std::vector<ParamRule>;

// Reasons shared by several operations.
const char* kTags =
    "Sluice keeps no tags on RAM and ResourceManager entities: the entity would be created without them, and tags "
    "can decide access (tag conditions)";
const char* kTagFilter = "Sluice keeps no tags on these entities, so ignoring the filter would list entities it excludes";
const char* kOneRegion =
    "Sluice serves one region, the one whose endpoint you call; the instance id alone names the instance";

using Table = std::map<std::string, ParameterContract, std::less<>>;

void ram(Table& t) {
  auto add = [&](const char* a, Names impl, Rules refused = {}, Rules ignored = {}) {
    t[std::string("Ram/") + a] = {std::move(impl), std::move(refused), std::move(ignored)};
  };
  add("CreateUser", {"UserName", "DisplayName", "Comments", "Email", "MobilePhone"});
  add("GetUser", {"UserName"});
  add("UpdateUser", {"UserName", "NewUserName", "NewDisplayName", "NewComments", "NewEmail", "NewMobilePhone"});
  add("DeleteUser", {"UserName"});
  add("ListUsers", {"Marker", "MaxItems"});
  for (const char* a : {"CreateLoginProfile", "UpdateLoginProfile"})
    add(a, {"UserName", "Password", "PasswordResetRequired", "MFABindRequired"});
  add("GetLoginProfile", {"UserName"});
  add("DeleteLoginProfile", {"UserName"});
  add("CreateAccessKey", {"UserName"});
  add("UpdateAccessKey", {"UserName", "UserAccessKeyId", "Status"});
  add("DeleteAccessKey", {"UserName", "UserAccessKeyId"});
  add("ListAccessKeys", {"UserName"});
  add("CreateGroup", {"GroupName", "Comments"});
  add("GetGroup", {"GroupName"});
  add("UpdateGroup", {"GroupName", "NewGroupName", "NewComments"});
  add("DeleteGroup", {"GroupName"});
  add("ListGroups", {"Marker", "MaxItems"});
  add("AddUserToGroup", {"GroupName", "UserName"});
  add("RemoveUserFromGroup", {"GroupName", "UserName"});
  add("ListGroupsForUser", {"UserName"});
  add("ListUsersForGroup", {"GroupName", "Marker", "MaxItems"});
  add("CreateRole", {"RoleName", "AssumeRolePolicyDocument", "Description", "MaxSessionDuration"}, {{"Tag", kTags, ""}});
  add("GetRole", {"RoleName"});
  add("UpdateRole", {"RoleName", "NewAssumeRolePolicyDocument", "NewDescription", "NewMaxSessionDuration"});
  add("DeleteRole", {"RoleName"});
  add("ListRoles", {"Marker", "MaxItems"}, {{"Tag", kTagFilter, ""}});
  add("CreatePolicy", {"PolicyName", "PolicyDocument", "Description"}, {{"Tag", kTags, ""}});
  add("GetPolicy", {"PolicyName", "PolicyType"});
  add("DeletePolicy", {"PolicyName", "CascadingDelete"});
  add("UpdatePolicyDescription", {"PolicyName", "NewDescription"});
  add("ListPolicies", {"PolicyType", "Marker", "MaxItems"}, {{"Tag", kTagFilter, ""}});
  add("CreatePolicyVersion", {"PolicyName", "PolicyDocument", "SetAsDefault", "RotateStrategy"});
  add("GetPolicyVersion", {"PolicyName", "PolicyType", "VersionId"});
  add("DeletePolicyVersion", {"PolicyName", "VersionId"});
  add("ListPolicyVersions", {"PolicyName", "PolicyType"});
  add("SetDefaultPolicyVersion", {"PolicyName", "VersionId"});
  for (const char* k : {"User", "Group", "Role"}) {
    std::string name = std::string(k) + "Name";
    add((std::string("AttachPolicyTo") + k).c_str(), {"PolicyType", "PolicyName", name, "ResourceGroupId"});
    add((std::string("DetachPolicyFrom") + k).c_str(), {"PolicyType", "PolicyName", name, "ResourceGroupId"});
    add((std::string("ListPoliciesFor") + k).c_str(), {name});
  }
  add("ListEntitiesForPolicy", {"PolicyType", "PolicyName"});
  add("GetAccountSummary", {});
  add("GetAccountAlias", {});
  add("SetAccountAlias", {"AccountAlias"});
  add("ClearAccountAlias", {});
  // issue 21: account security settings, a user's own password, key last use, virtual MFA.
  add("GetPasswordPolicy", {});
  add("SetPasswordPolicy", {"MinimumPasswordLength", "RequireLowercaseCharacters", "RequireUppercaseCharacters",
                            "RequireNumbers", "RequireSymbols", "HardExpiry", "MaxPasswordAge",
                            "PasswordReusePrevention", "MaxLoginAttemps"});
  add("GetSecurityPreference", {});
  add("SetSecurityPreference", {"AllowUserToChangePassword", "AllowUserToManageAccessKeys",
                                "AllowUserToManageMFADevices", "AllowUserToManagePublicKeys", "EnableSaveMFATicket",
                                "LoginSessionDuration", "LoginNetworkMasks"});
  add("ChangePassword", {"OldPassword", "NewPassword"});
  add("GetAccessKeyLastUsed", {"UserName", "UserAccessKeyId"});
  add("CreateVirtualMFADevice", {"VirtualMFADeviceName"});
  add("BindMFADevice", {"UserName", "SerialNumber", "AuthenticationCode1", "AuthenticationCode2"});
  add("UnbindMFADevice", {"UserName"});
  add("GetUserMFAInfo", {"UserName"});
  add("ListVirtualMFADevices", {});
  add("DeleteVirtualMFADevice", {"SerialNumber"});
}

// Ims 2019-08-15 (issue 21): the operations served under Ims as well as Ram.
void ims(Table& t) { t["Ims/GetAccountSummary"] = {}; }

void resourcemanager(Table& t) {
  auto add = [&](const char* a, Names impl, Rules refused = {}, Rules ignored = {}) {
    t[std::string("ResourceManager/") + a] = {std::move(impl), std::move(refused), std::move(ignored)};
  };
  const ParamRule include_tags{
      "IncludeTags",
      "resource groups carry no tags here (CreateResourceGroup refuses Tag), so the answer with tags is the answer "
      "without them",
      ""};
  add("CreateResourceGroup", {"Name", "DisplayName"}, {{"Tag", kTags, ""}});
  add("GetResourceGroup", {"ResourceGroupId"}, {}, {include_tags});
  add("ListResourceGroups",
      {"Name", "DisplayName", "ResourceGroupId", "ResourceGroupIds", "Status", "PageNumber", "PageSize"},
      {{"Tag", kTagFilter, ""}}, {include_tags});
  add("UpdateResourceGroup", {"ResourceGroupId", "NewDisplayName"});
  add("DeleteResourceGroup", {"ResourceGroupId"});
  add("MoveResources", {"ResourceGroupId", "Resources"});
  for (const char* a : {"AttachPolicy", "DetachPolicy"})
    add(a, {"ResourceGroupId", "PolicyType", "PolicyName", "PrincipalType", "PrincipalName"});
  add("ListPolicyAttachments",
      {"ResourceGroupId", "PrincipalType", "PrincipalName", "PolicyType", "PolicyName", "PageNumber", "PageSize"}, {},
      {{"Language", "policy descriptions exist in one language here; the language changes no attachment listed", ""}});
}

void sts(Table& t) {
  t["Sts/AssumeRole"] = {{"RoleArn", "RoleSessionName", "DurationSeconds", "Policy", "ExternalId", "SourceIdentity"}};
  t["Sts/GetCallerIdentity"] = {};
}

void ons_and_actiontrail(Table& t) {
  t["Ons/OpenOnsService"] = {};
  t["Actiontrail/LookupEvents"] = {
      {"StartTime", "EndTime", "MaxResults", "LookupAttribute", "NextToken"},
      {{"Direction", "events are returned newest first only (BACKWARD)", "BACKWARD"}}};
}

void onsmqtt(Table& t) {
  auto add = [&](const char* a, Names impl, Rules refused = {}, Rules ignored = {}) {
    t[std::string("OnsMqtt/") + a] = {std::move(impl), std::move(refused), std::move(ignored)};
  };
  // Extensions (the cloud does these through billing or its console).
  Names create{"InstanceName", "InstanceType", "Remark", "ResourceGroupId"};
  Names update{"InstanceId", "InstanceName", "Remark", "InstanceType", "ResetSettings"};
  for (const auto& st : mq::instance_settings()) {
    create.emplace_back(st.name);
    update.emplace_back(st.name);
  }
  add("CreateInstance", std::move(create));
  add("UpdateInstance", std::move(update));
  add("ReleaseInstance", {"InstanceId"});
  add("CreateTopic", {"InstanceId", "Topic", "Remark"});
  add("DeleteTopic", {"InstanceId", "Topic"});
  add("ListTopic", {"InstanceId"});
  add("DescribeMqttMetaData", {});
  // The cloud's operations (Remark, ResourceGroupId, Tag, PageNo, PageSize of
  // ListInstances and CreateGroupId's Remark are Sluice's additions).
  add("ListInstances", {"Tags", "Tag", "ResourceGroupId", "PageNo", "PageSize"});
  add("CreateGroupId", {"InstanceId", "GroupId", "Remark", "Tags"});
  add("DeleteGroupId", {"InstanceId", "GroupId"});
  add("ListGroupId", {"InstanceId", "Tags"});
  add("TagResources", {"ResourceType", "ResourceId", "Tag"});
  add("UntagResources", {"ResourceType", "ResourceId", "TagKey", "All"});
  add("ListTagResources", {"ResourceType", "ResourceId", "Tag"},
      {{"NextToken", "every answer here is one complete page (its NextToken is always empty), so no later page exists", ""}});
  add("ApplyToken", {"InstanceId", "Resources", "Actions", "ExpireTime"});
  add("QueryToken", {"InstanceId", "Token"});
  add("RevokeToken", {"InstanceId", "Token"});
  for (const char* a : {"RegisterDeviceCredential", "GetDeviceCredential", "RefreshDeviceCredential",
                        "UnRegisterDeviceCredential", "QuerySessionByClientId", "CloseConnection"})
    add(a, {"InstanceId", "ClientId"});
  add("ListDeviceCredentialClientId", {"InstanceId", "GroupId", "PageNo", "PageSize"},
      {{"NextToken", "pages are chosen with PageNo here; a NextToken would be answered with the first page", ""}});
  add("BatchQuerySessionByClientIds", {"InstanceId", "ClientIdList"});
  const ParamRule region{"MqttRegionId", kOneRegion, ""};
  for (const char* a : {"QueryMqttTraceDevice", "QueryMqttTraceMessageOfClient"})
    add(a, {"InstanceId", "ClientId", "BeginTime", "EndTime", "Reverse", "CurrentPage", "PageSize"}, {}, {region});
  add("QueryMqttTraceMessagePublish", {"InstanceId", "MsgId", "BeginTime", "EndTime", "Reverse"}, {}, {region});
  add("QueryMqttTraceMessageSubscribe",
      {"InstanceId", "MsgId", "ClientId", "BeginTime", "EndTime", "Reverse", "CurrentPage", "PageSize"}, {}, {region});
  for (const char* a : {"AddCustomAuthIdentity", "UpdateCustomAuthIdentity"})
    add(a, {"InstanceId", "Username", "IdentityType", "ClientId", "Secret", "SignMode"});
  add("DeleteCustomAuthIdentity", {"InstanceId", "Username", "IdentityType", "ClientId"});
  add("QueryCustomAuthIdentity", {"InstanceId", "Username", "IdentityType", "ClientId", "NextToken", "Size"});
  for (const char* a : {"AddCustomAuthPermission", "UpdateCustomAuthPermission"})
    add(a, {"InstanceId", "Identity", "IdentityType", "Topic", "PermitAction", "Effect"});
  add("DeleteCustomAuthPermission", {"InstanceId", "Identity", "IdentityType", "Topic"});
  add("QueryCustomAuthPermission", {"InstanceId", "Identity", "IdentityType", "Topic", "NextToken", "Size"});
  add("AddCustomAuthConnectBlack", {"InstanceId", "ClientId"});
  add("DeleteCustomAuthConnectBlack", {"InstanceId", "ClientId"});
  add("QueryCustomAuthConnectBlack", {"InstanceId", "ClientId", "NextToken", "Size"});
  add("SendMessage", {"InstanceId", "MqttTopic", "Payload"});
  // CA and device certificates (issue 18): the cloud's parameters, all of them.
  add("GetRegisterCode", {"MqttInstanceId"});
  add("RegisterCaCertificate", {"MqttInstanceId", "CaName", "CaContent", "VerificationContent"});
  add("ListCaCertificate", {"MqttInstanceId", "PageNo", "PageSize"});
  for (const char* a : {"GetCaCertificate", "ActiveCaCertificate", "InactivateCaCertificate", "DeleteCaCertificate"})
    add(a, {"MqttInstanceId", "Sn"});
  add("ListDeviceCertificate", {"MqttInstanceId", "PageNo", "PageSize"});
  add("ListDeviceCertificateByCaSn", {"MqttInstanceId", "CaSn", "PageNo", "PageSize"});
  for (const char* a : {"GetDeviceCertificate", "ActiveDeviceCertificate", "InactivateDeviceCertificate",
                        "DeleteDeviceCertificate"})
    add(a, {"MqttInstanceId", "CaSn", "DeviceSn"});
  // Data rules (issue 19): Sluice's own operations.
  for (const char* a : {"CreateRule", "UpdateRule"})
    add(a, {"InstanceId", "RuleName", "RuleType", "SourceTopic", "TargetType", "TargetConfig"});
  for (const char* a : {"GetRule", "DeleteRule"}) add(a, {"InstanceId", "RuleName"});
  add("ListRules", {"InstanceId"});
}

const Table& table() {
  static const Table t = [] {
    Table x;
    ram(x);
    ims(x);
    resourcemanager(x);
    sts(x);
    ons_and_actiontrail(x);
    onsmqtt(x);
    return x;
  }();
  return t;
}

}  // namespace

const ParameterContract* parameter_contract(std::string_view product, std::string_view action) {
  std::string key(product);
  key.push_back('/');
  key += action;
  auto it = table().find(key);
  return it == table().end() ? nullptr : &it->second;
}

}  // namespace sluice::api
