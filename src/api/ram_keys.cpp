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

}  // namespace

void add_key_operations(Registry& r) {
  add(r, {
      {"CreateAccessKey", CreateAccessKey},
      {"UpdateAccessKey", UpdateAccessKey},
      {"DeleteAccessKey", DeleteAccessKey},
      {"ListAccessKeys", ListAccessKeys},
  });
}

}  // namespace sluice::api::ram
