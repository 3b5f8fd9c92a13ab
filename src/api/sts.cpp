// Sts 2015-04-01: AssumeRole (temporary STS. keys with a SecurityToken) and
// GetCallerIdentity.
#include "api/rpc.hpp"

namespace sluice::api {

namespace {

void AssumeRole(Call& c) {
  auto arn = c.req("RoleArn");
  auto session = c.req("RoleSessionName");
  if (session.size() < 2 || session.size() > 64)
    fail("InvalidParameter.RoleSessionName", 400, "RoleSessionName must be 2 to 64 characters of [A-Za-z0-9.@_-].");
  for (char ch : session)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '@' && ch != '_' && ch != '-')
      fail("InvalidParameter.RoleSessionName", 400, "RoleSessionName must be 2 to 64 characters of [A-Za-z0-9.@_-].");
  // The caller needs sts:AssumeRole on the role; the role's trust policy decides
  // the rest, possibly across accounts.
  iam::DecideOptions o;
  o.allow_cross_account = true;
  c.authorize("sts:AssumeRole", arn, {}, o);
  std::optional<int64_t> dur;
  if (c.opt("DurationSeconds")) dur = c.opt_int("DurationSeconds", 3600, 900, 43200);
  auto cr = unwrap(c.iam().assume_role(c.principal(), arn, session, dur, c.opt("Policy")));
  auto& w = c.out();
  w.key("Credentials").begin_object();
  w.field("AccessKeyId", cr.access_key_id);
  w.field("AccessKeySecret", cr.access_key_secret);
  w.field("SecurityToken", cr.security_token);
  w.field("Expiration", iso_time(cr.expiration));
  w.end_object();
  w.key("AssumedRoleUser").begin_object();
  w.field("AssumedRoleId", cr.assumed_role_id);
  w.field("Arn", cr.assumed_role_arn);
  w.end_object();
}

void GetCallerIdentity(Call& c) {
  c.mark_authorized();  // any authenticated caller may ask who it is
  const auto& p = c.principal();
  auto& w = c.out();
  w.field("AccountId", p.account_id);
  w.field("Arn", p.arn());
  switch (p.kind) {
    case iam::Principal::Kind::Root:
      w.field("IdentityType", "Account");
      w.field("UserId", p.account_id);
      w.field("PrincipalId", p.account_id);
      break;
    case iam::Principal::Kind::User: {
      auto u = c.iam().get_user(p.account_id, p.name);
      w.field("IdentityType", "RAMUser");
      w.field("UserId", u ? u->user_id : std::string());
      w.field("PrincipalId", u ? u->user_id : std::string());
      break;
    }
    case iam::Principal::Kind::RoleSession: {
      auto r = c.iam().get_role(p.account_id, p.name);
      std::string rid = r ? r->role_id : std::string();
      w.field("IdentityType", "AssumedRoleUser");
      w.field("RoleId", rid);
      w.field("PrincipalId", rid + ":" + p.session_name);
      break;
    }
  }
}

}  // namespace

void add_sts_operations(Registry& r) {
  r.add("Sts", "2015-04-01", "AssumeRole", AssumeRole);
  r.add("Sts", "2015-04-01", "GetCallerIdentity", GetCallerIdentity);
}

}  // namespace sluice::api
