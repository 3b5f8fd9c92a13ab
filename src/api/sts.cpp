// Sts 2015-04-01: AssumeRole (temporary STS. keys with a SecurityToken) and
// GetCallerIdentity.
#include "api/audit.hpp"
#include "api/rpc.hpp"

namespace sluice::api {

namespace {

// The account of "acs:ram::<account>:role/<name>" ("" when RoleArn has another form;
// assume_role then refuses it as InvalidParameter.RoleArn).
std::string role_account(std::string_view arn) {
  constexpr std::string_view kPrefix = "acs:ram::";
  if (!arn.starts_with(kPrefix)) return {};
  arn.remove_prefix(kPrefix.size());
  auto colon = arn.find(':');
  return colon == std::string_view::npos ? std::string() : std::string(arn.substr(0, colon));
}

// May the caller learn whether this role exists? Only where it may read the role
// (ram:GetRole on it, which never reaches into another account). Otherwise a
// missing role and a role whose trust policy does not admit the caller are
// answered alike (issue #14, finding 11: NoPermission vs EntityNotExist.Role told
// another account's real roles from missing ones).
bool may_see_role(Call& c, const std::string& account, const std::string& arn) {
  auto pos = arn.find(":role/");
  if (account != c.account() || pos == std::string::npos) return false;
  std::string name = arn.substr(pos + 6);
  std::string res = "acs:ram:*:" + account + ":role/" + name;
  return c.svc().authz->decide(c.principal(), "ram:GetRole", std::span<const std::string>(&res, 1), "").allowed();
}

[[noreturn]] void not_assumable(Call& c, const std::string& arn) {
  fail("NoPermission", 403,
       "You are not authorized to assume the role " + arn + ": it does not exist, or its trust policy "
       "(AssumeRolePolicyDocument) does not admit " + c.principal().arn() + ".");
}

// Every AssumeRole across accounts, allowed or refused, is audited in both
// accounts as CrossAccountAssumeRole, naming both (issue #14, finding 12), beside
// the caller's own AssumeRole record: the role's owner sees who from outside took
// (or tried to take) its role. `error` is what the caller was answered; the
// owner's record has the real reason (`owner_error`).
void audit_cross_account(Call& c, const std::string& role_acct, const std::string& arn, const std::string& session,
                         const ApiError* error, const ApiError* owner_error) {
  JsonWriter p;
  p.begin_object();
  p.field("RoleArn", arn);
  p.field("RoleSessionName", session);
  p.field("CallerAccountId", c.account());
  p.field("CallerArn", c.principal().arn());
  p.field("RoleAccountId", role_acct);
  p.end_object();
  auto event = [&](const std::string& account, const ApiError* e) {
    AuditEvent ev;
    ev.event_source = "sts.aliyuncs.com";
    ev.event_name = "CrossAccountAssumeRole";
    ev.account_id = account;
    ev.parameters = p.str();
    if (e) {
      ev.error_code = e->code;
      ev.error_message = e->message;
      ev.http_status = e->status;
    }
    c.audit(std::move(ev));
  };
  event(c.account(), error);
  // Only an account that exists has a log to write to (a made-up account id
  // must not grow the audit table).
  if (c.iam().get_account(role_acct)) event(role_acct, owner_error);
}

// `real`: set to the real reason when the caller is answered not_assumable().
void assume(Call& c, const std::string& arn, const std::string& session, const std::string& acct,
            std::optional<ApiError>* real) {
  // The caller needs sts:AssumeRole on the role; the role's trust policy decides
  // the rest, possibly across accounts.
  iam::DecideOptions o;
  o.allow_cross_account = true;
  c.authorize("sts:AssumeRole", arn, {}, o);
  std::optional<int64_t> dur;
  // The range is the identity layer's to enforce: [iam] sts_min_duration_s up to the role's maximum.
  if (c.opt("DurationSeconds")) dur = c.opt_int("DurationSeconds", 3600, 1, 43200);
  iam::AssumeRoleOptions ro;
  ro.duration_seconds = dur;
  ro.session_policy = c.opt("Policy");
  ro.external_id = c.opt("ExternalId");
  ro.source_identity = c.opt("SourceIdentity");
  if (ro.external_id && ro.external_id->empty()) ro.external_id.reset();
  if (ro.source_identity && ro.source_identity->empty()) ro.source_identity.reset();
  // A session that has a source identity passes it on unchanged to the sessions
  // it assumes (role chaining), as the cloud: who started the chain stays known.
  if (c.principal().kind == iam::Principal::Kind::RoleSession) {
    auto mine = c.iam().get_sts_session(c.principal().access_key_id);
    if (mine && !mine->source_identity.empty()) {
      if (ro.source_identity && *ro.source_identity != mine->source_identity)
        fail("InvalidParameter.SourceIdentity", 400,
             "This session's SourceIdentity is \"" + mine->source_identity +
                 "\"; a role it assumes keeps it, so SourceIdentity must be that or absent.");
      ro.source_identity = mine->source_identity;
    }
  }
  auto r = c.iam().assume_role(c.principal(), arn, session, ro);
  if (!r) {
    const auto& e = r.error();
    if ((e.code == "EntityNotExist.Role" || e.code == "NoPermission") && !may_see_role(c, acct, arn)) {
      *real = ApiError{e.code, e.http_status, e.message};
      not_assumable(c, arn);
    }
    fail(e);
  }
  const auto& cr = *r;
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
  if (!cr.source_identity.empty()) w.field("SourceIdentity", cr.source_identity);
}

void AssumeRole(Call& c) {
  auto arn = c.req("RoleArn");
  auto session = c.req("RoleSessionName");
  if (session.size() < 2 || session.size() > 64)
    fail("InvalidParameter.RoleSessionName", 400, "RoleSessionName must be 2 to 64 characters of [A-Za-z0-9.@_-].");
  for (char ch : session)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '@' && ch != '_' && ch != '-')
      fail("InvalidParameter.RoleSessionName", 400, "RoleSessionName must be 2 to 64 characters of [A-Za-z0-9.@_-].");
  const std::string acct = role_account(arn);
  std::optional<ApiError> real;
  if (acct.empty() || acct == c.account()) return assume(c, arn, session, acct, &real);
  try {
    assume(c, arn, session, acct, &real);
  } catch (const ApiError& e) {
    audit_cross_account(c, acct, arn, session, &e, real ? &*real : &e);
    throw;
  }
  audit_cross_account(c, acct, arn, session, nullptr, nullptr);
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
