// RAM access keys: a RAM user's, or the root account's own.
#include "api/ram_internal.hpp"

namespace sluice::api::ram {

namespace {

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
// The security preference AllowUserToManageAccessKeys (off by default) lets a
// RAM user manage its own keys without a policy, as the cloud; otherwise a
// policy decides.
void authorize_keys(Call& c, const char* action, const std::string& res, const std::optional<std::string>& owner) {
  const auto& who = c.principal();
  if (who.kind == iam::Principal::Kind::User && owner && *owner == who.name &&
      unwrap(c.iam().security_preference(c.account())).allow_user_to_manage_access_keys) {
    c.authorize_unless_denied(action, res);
    return;
  }
  c.authorize(action, res);
}
void CreateAccessKey(Call& c) {
  std::string res;
  auto owner = key_owner(c, res);
  authorize_keys(c, "ram:CreateAccessKey", res, owner);
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
  authorize_keys(c, "ram:UpdateAccessKey", res, owner);
  unwrap(c.iam().update_access_key(c.account(), owner, id, st));
}
void DeleteAccessKey(Call& c) {
  std::string res;
  auto owner = key_owner(c, res);
  auto id = c.req("UserAccessKeyId");
  authorize_keys(c, "ram:DeleteAccessKey", res, owner);
  unwrap(c.iam().delete_access_key(c.account(), owner, id));
}
void ListAccessKeys(Call& c) {
  std::string res;
  auto owner = key_owner(c, res);
  authorize_keys(c, "ram:ListAccessKeys", res, owner);
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

void GetAccessKeyLastUsed(Call& c) {
  std::string res;
  auto owner = key_owner(c, res);
  auto id = c.req("UserAccessKeyId");
  authorize_keys(c, "ram:GetAccessKeyLastUsed", res, owner);
  auto t = unwrap(c.iam().access_key_last_used(c.account(), owner, id));
  auto& w = c.out();
  w.key("AccessKeyLastUsed").begin_object();
  // A key never used since Sluice began recording: no date (the cloud leaves it empty too).
  w.field("LastUsedDate", t ? iso_time(*t) : std::string());
  w.end_object();
}

}  // namespace

void add_key_operations(Registry& r) {
  add(r, {
      {"CreateAccessKey", CreateAccessKey},
      {"UpdateAccessKey", UpdateAccessKey},
      {"DeleteAccessKey", DeleteAccessKey},
      {"ListAccessKeys", ListAccessKeys},
      {"GetAccessKeyLastUsed", GetAccessKeyLastUsed},
  });
}

}  // namespace sluice::api::ram
