// RAM roles (trust policies) and STS AssumeRole sessions.
#include <algorithm>
#include <boost/json.hpp>
#include <mutex>

#include "iam/iam_service.hpp"
#include "iam/internal.hpp"
#include "store/store.hpp"

namespace sluice::iam {

using namespace detail;
namespace json = boost::json;

namespace {
constexpr std::string_view kRoleCols =
    "SELECT account_id, name, role_id, description, trust_policy, max_session_duration, created_at FROM roles ";
Role read_role(store::Stmt& q) {
  Role r;
  r.account_id = q.text(0);
  r.name = q.text(1);
  r.role_id = q.text(2);
  r.arn = "acs:ram::" + r.account_id + ":role/" + detail::lower(r.name);
  r.description = q.text(3);
  r.trust_policy = q.text(4);
  r.max_session_duration = q.int64(5);
  r.created_at = q.int64(6);
  return r;
}
Error no_role(std::string_view name) {
  return err::not_exist("EntityNotExist.Role", "The role \"" + std::string(name) + "\" does not exist.");
}

std::vector<std::string> strings_of(const json::value* v) {
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) out.emplace_back(v->as_string());
  if (v->is_array())
    for (const auto& x : v->as_array())
      if (x.is_string()) out.emplace_back(x.as_string());
  return out;
}

// The account a RAM principal entry of a trust policy names: "acs:ram::<acct>:..."
// or a bare "<acct>" (or "*").
std::string_view entry_account(std::string_view entry) {
  constexpr std::string_view kPrefix = "acs:ram::";
  if (!entry.starts_with(kPrefix)) return entry;
  entry.remove_prefix(kPrefix.size());
  return entry.substr(0, entry.find(':'));
}
// An entry whose account is a wildcard admits the principals of every account
// ({"RAM":["*"]}, "acs:ram::*:root", "acs:ram::12*:root"): issue #14, finding 12.
bool any_account(std::string_view entry) {
  std::string_view acct = entry_account(entry);
  return acct.empty() || acct.find_first_of("*?") != std::string_view::npos;
}

// Trust policy conditions (issue 21): only sts:ExternalId, under StringEquals or
// StringLike, is evaluated (against AssumeRole's ExternalId). Why a Condition
// block is not of that form, or nullopt.
bool is_external_id_key(std::string_view k) {
  return k.size() == 14 && detail::lower(k) == "sts:externalid";
}
std::optional<std::string> unsupported_condition(const json::value& c) {
  if (!c.is_object() || c.as_object().empty()) return "must be an object of operators";
  for (const auto& [op, keys] : c.as_object()) {
    if (op != "StringEquals" && op != "StringLike") return "uses the operator \"" + std::string(op) + "\"";
    if (!keys.is_object() || keys.as_object().empty()) return "has no condition keys under " + std::string(op);
    for (const auto& [k, vals] : keys.as_object()) {
      if (!is_external_id_key(k)) return "uses the condition key \"" + std::string(k) + "\"";
      if (strings_of(&vals).empty()) return "gives sts:ExternalId no string value";
    }
  }
  return std::nullopt;
}
// Does a (supported) Condition hold for this ExternalId? Every operator and key
// must hold (AND); any of a key's values may match (OR); no ExternalId holds nothing.
bool condition_holds(const json::value& c, const std::optional<std::string>& external_id) {
  if (unsupported_condition(c)) return false;
  if (!external_id) return false;
  for (const auto& [op, keys] : c.as_object())
    for (const auto& [k, vals] : keys.as_object()) {
      (void)k;
      bool any = false;
      for (const auto& v : strings_of(&vals))
        any = any || (op == "StringEquals" ? v == *external_id : policy::wildcard_match(v, *external_id));
      if (!any) return false;
    }
  return true;
}

// A trust policy: {"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",
// "Principal":{"RAM":["acs:ram::<acct>:root"]}}]}. Validated structurally here;
// Principal/Service/Federated keys are accepted, only RAM principals can match.
// Refused (issue #14): a RAM principal whose account is a wildcard (any account's
// users could assume the role; on one Sluice that means every other tenant), and a
// Condition (not evaluated here, so it would admit the principals it is meant to
// exclude).
std::optional<Error> check_trust_policy(std::string_view doc, size_t max_chars) {
  auto bad = [](std::string m) { return err::malformed_policy("MalformedPolicyDocument: AssumeRolePolicyDocument: " + m); };
  if (doc.size() > max_chars) return bad("longer than " + std::to_string(max_chars) + " characters");
  std::error_code ec;
  json::value v = json::parse(doc, ec);
  if (ec || !v.is_object()) return bad("not a JSON object");
  const auto& o = v.as_object();
  auto ver = o.if_contains("Version");
  if (!ver || !ver->is_string() || ver->as_string() != "1") return bad("\"Version\" must be \"1\"");
  auto st = o.if_contains("Statement");
  if (!st || !(st->is_array() || st->is_object())) return bad("\"Statement\" must be an array");
  json::array stmts = st->is_array() ? st->as_array() : json::array{*st};
  if (stmts.empty()) return bad("\"Statement\" is empty");
  for (size_t i = 0; i < stmts.size(); ++i) {
    std::string at = "Statement[" + std::to_string(i) + "]";
    if (!stmts[i].is_object()) return bad(at + " is not an object");
    const auto& s = stmts[i].as_object();
    auto eff = s.if_contains("Effect");
    if (!eff || !eff->is_string() || (eff->as_string() != "Allow" && eff->as_string() != "Deny"))
      return bad(at + ".Effect must be \"Allow\" or \"Deny\"");
    if (strings_of(s.if_contains("Action")).empty()) return bad(at + ".Action is missing (use \"sts:AssumeRole\")");
    auto pr = s.if_contains("Principal");
    if (!pr || !pr->is_object() || pr->as_object().empty())
      return bad(at + ".Principal must be an object such as {\"RAM\":[\"acs:ram::<accountId>:root\"]}");
    for (const auto& [k, val] : pr->as_object()) {
      if (k != "RAM" && k != "Service" && k != "Federated")
        return bad(at + ".Principal has unknown key \"" + std::string(k) + "\" (use RAM, Service or Federated)");
      if (strings_of(&val).empty()) return bad(at + ".Principal." + std::string(k) + " must name principals");
      if (k == "RAM")
        for (const auto& e : strings_of(&val))
          if (any_account(e))
            return bad(at + ".Principal.RAM entry \"" + e +
                       "\" admits the principals of every account; name the account whose principals may assume "
                       "the role (acs:ram::<accountId>:root, or one of its users or roles)");
    }
    if (auto* c = s.if_contains("Condition"))
      if (auto why = unsupported_condition(*c))
        return bad(at + ".Condition " + *why +
                   ": a trust policy here evaluates only the condition key sts:ExternalId, with StringEquals or "
                   "StringLike (anything else would not be evaluated, so it would admit the principals it is meant "
                   "to exclude)");
  }
  return std::nullopt;
}

// Does the caller match one RAM principal entry of a trust policy of a role of
// `role_account`? A wildcard account (refused since issue #14, but possibly
// stored before) is read as the role's own account only, never another.
bool principal_matches(std::string_view entry, const Principal& caller, std::string_view role_account) {
  if (any_account(entry) && caller.account_id != role_account) return false;
  if (entry == "*") return true;
  if (entry == caller.account_id || entry == "acs:ram::" + caller.account_id + ":root") return true;
  return policy::wildcard_match(entry, caller.arn());
}

bool trusts(std::string_view doc, const Principal& caller, std::string_view role_account,
            const std::optional<std::string>& external_id) {
  std::error_code ec;
  json::value v = json::parse(doc, ec);
  if (ec || !v.is_object()) return false;
  auto st = v.as_object().if_contains("Statement");
  if (!st) return false;
  json::array stmts = st->is_array() ? st->as_array() : json::array{*st};
  bool allowed = false;
  for (const auto& sv : stmts) {
    if (!sv.is_object()) continue;
    const auto& s = sv.as_object();
    bool action = false;
    for (const auto& a : strings_of(s.if_contains("Action")))
      action = action || policy::wildcard_match(a, "sts:AssumeRole", /*ignore_case=*/true);
    if (!action) continue;
    bool who = false;
    if (auto pr = s.if_contains("Principal"); pr && pr->is_object())
      if (auto ram = pr->as_object().if_contains("RAM"))
        for (const auto& e : strings_of(ram)) who = who || principal_matches(e, caller, role_account);
    if (!who) continue;
    auto eff = s.if_contains("Effect");
    const bool deny = eff && eff->is_string() && eff->as_string() == "Deny";
    // A Condition on sts:ExternalId is evaluated; any other (refused since issue
    // #14, but possibly stored before) is not: its Allow admits nobody, its Deny
    // always applies.
    const json::value* cond = s.if_contains("Condition");
    const bool supported = cond && !unsupported_condition(*cond);
    const bool holds = !cond || (supported && condition_holds(*cond, external_id));
    if (deny) {
      if (holds || !supported) return false;
      continue;
    }
    if (!holds) continue;
    allowed = true;
  }
  return allowed;
}
}  // namespace

Result<Role> IamService::create_role(std::string_view account_id, std::string_view name, std::string_view trust_policy,
                                     std::string_view description, std::optional<int64_t> max_session_duration) {
  if (auto e = check_name("RoleName", name, 1, 64, ".-")) return *e;
  if (auto e = check_length("Description", description, 0, 1024)) return *e;
  if (auto e = check_trust_policy(trust_policy, limits_.policy_document_max_chars)) return *e;
  int64_t max = max_session_duration.value_or(limits_.role_default_max_session);
  if (max < 3600 || max > limits_.role_max_session_upper)
    return err::invalid("InvalidParameter.MaxSessionDuration",
                        "MaxSessionDuration must be 3600 to " + std::to_string(limits_.role_max_session_upper) +
                            " seconds.");
  return write_tx(account_id, [&](store::Db& db) -> Result<Role> {
    if (auto s = account_exists(account_id); !s) return s.error();
    if (db.query("SELECT 1 FROM roles WHERE account_id = ? AND lower(name) = lower(?)", account_id, name).step())
      return err::already_exists("EntityAlreadyExists.Role",
                                 "A role named \"" + std::string(name) + "\" already exists (role names ignore case).");
    auto c = db.query("SELECT COUNT(*) FROM roles WHERE account_id = ?", account_id);
    c.step();
    if (static_cast<size_t>(c.int64(0)) >= limits_.roles_per_account)
      return err::limit("LimitExceeded.Role", "This account already has the maximum number of roles.");
    std::string id;
    do {
      id = numeric_id(19);
    } while (db.query("SELECT 1 FROM roles WHERE role_id = ?", id).step());
    int64_t t = now();
    db.run("INSERT INTO roles VALUES (?, ?, ?, ?, ?, ?, ?, ?)", account_id, name, id, description, trust_policy, max, t,
           t);
    Role r;
    r.account_id = account_id;
    r.name = name;
    r.role_id = id;
    r.arn = "acs:ram::" + r.account_id + ":role/" + detail::lower(name);
    r.description = description;
    r.trust_policy = trust_policy;
    r.max_session_duration = max;
    r.created_at = t;
    return r;
  });
}

Result<Role> IamService::get_role(std::string_view account_id, std::string_view name) {
  return guarded([&]() -> Result<Role> {
    std::lock_guard lk(store_->mutex());
    auto q = store_->db().query(std::string(kRoleCols) + "WHERE account_id = ? AND name = ?", account_id, name);
    if (!q.step()) return no_role(name);
    return read_role(q);
  });
}

Result<std::vector<Role>> IamService::list_roles(std::string_view account_id) {
  return guarded([&]() -> Result<std::vector<Role>> {
    std::lock_guard lk(store_->mutex());
    auto q = store_->db().query(std::string(kRoleCols) + "WHERE account_id = ? ORDER BY name", account_id);
    std::vector<Role> out;
    while (q.step()) out.push_back(read_role(q));
    return out;
  });
}

Result<Role> IamService::update_role(std::string_view account_id, std::string_view name,
                                     std::optional<std::string> trust_policy,
                                     std::optional<int64_t> max_session_duration,
                                     std::optional<std::string> description) {
  if (description)
    if (auto e = check_length("NewDescription", *description, 0, 1024)) return *e;
  if (trust_policy)
    if (auto e = check_trust_policy(*trust_policy, limits_.policy_document_max_chars)) return *e;
  if (max_session_duration && (*max_session_duration < 3600 || *max_session_duration > limits_.role_max_session_upper))
    return err::invalid("InvalidParameter.MaxSessionDuration",
                        "MaxSessionDuration must be 3600 to " + std::to_string(limits_.role_max_session_upper) +
                            " seconds.");
  auto r = write_tx(account_id, [&](store::Db& db) -> Status {
    if (db.run("UPDATE roles SET trust_policy = COALESCE(?, trust_policy), max_session_duration = COALESCE(?, "
               "max_session_duration), description = COALESCE(?, description), updated_at = ? WHERE account_id = ? "
               "AND name = ?",
               trust_policy, max_session_duration, description, now(), account_id, name) == 0)
      return no_role(name);
    return {};
  });
  if (!r) return r.error();
  return get_role(account_id, name);
}

Status IamService::delete_role(std::string_view account_id, std::string_view name) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (!db.query("SELECT 1 FROM roles WHERE account_id = ? AND name = ?", account_id, name).step())
      return no_role(name);
    if (db.query("SELECT 1 FROM attachments WHERE account_id = ? AND principal_type = 'Role' AND principal_name = ?",
                 account_id, name)
            .step())
      return err::conflict("DeleteConflict.Role.Policy",
                           "The role \"" + std::string(name) + "\" still has policies attached; detach them first.");
    db.run("DELETE FROM roles WHERE account_id = ? AND name = ?", account_id, name);
    db.run("DELETE FROM sts_sessions WHERE account_id = ? AND role_name = ?", account_id, name);
    return {};
  });
}

Result<StsCredentials> IamService::assume_role(const Principal& caller, std::string_view role_arn,
                                               std::string_view session_name, std::optional<int64_t> duration_seconds,
                                               std::optional<std::string> session_policy) {
  AssumeRoleOptions o;
  o.duration_seconds = duration_seconds;
  o.session_policy = std::move(session_policy);
  return assume_role(caller, role_arn, session_name, o);
}

Result<StsCredentials> IamService::assume_role(const Principal& caller, std::string_view role_arn,
                                               std::string_view session_name, const AssumeRoleOptions& opts) {
  const auto& duration_seconds = opts.duration_seconds;
  const auto& session_policy = opts.session_policy;
  if (opts.external_id) {
    if (auto e = check_name("ExternalId", *opts.external_id, 2, 1224, "=,.@:/-_")) return *e;
  }
  if (opts.source_identity) {
    if (auto e = check_name("SourceIdentity", *opts.source_identity, 2, 64, "=,.@-_")) return *e;
  }
  // acs:ram::<account>:role/<name>
  constexpr std::string_view kPrefix = "acs:ram::";
  auto bad_arn = [&] {
    return err::invalid("InvalidParameter.RoleArn", "The RoleArn \"" + std::string(role_arn) +
                                                        "\" is not of the form acs:ram::<accountId>:role/<roleName>.");
  };
  if (!role_arn.starts_with(kPrefix)) return bad_arn();
  std::string_view rest = role_arn.substr(kPrefix.size());
  auto colon = rest.find(':');
  if (colon == std::string_view::npos || !rest.substr(colon + 1).starts_with("role/")) return bad_arn();
  std::string account(rest.substr(0, colon));
  std::string role_name(rest.substr(colon + 1 + 5));
  if (account.empty() || role_name.empty()) return bad_arn();
  if (auto e = check_name("RoleSessionName", session_name, 2, 64, ".@_-")) return *e;
  if (session_policy) {
    auto p = policy::parse(*session_policy, limits_.policy_document_max_chars);
    if (!p.ok()) return err::invalid("InvalidParameter.PolicyGrammar", "The session policy is invalid: " + p.error);
  }
  return guarded_tx([&]() -> Result<StsCredentials> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    IamTx tx(*this, account);
    auto q = db.query(std::string(kRoleCols) + "WHERE account_id = ? AND lower(name) = lower(?)", account, role_name);
    if (!q.step()) return no_role(role_name);
    Role role = read_role(q);
    if (!trusts(role.trust_policy, caller, role.account_id, opts.external_id))
      return err::no_permission("You are not authorized to assume the role " + role.arn + ": its trust policy "
                                "(AssumeRolePolicyDocument) does not name " + caller.arn() + " or its account.");
    int64_t d = duration_seconds.value_or(std::min<int64_t>(3600, role.max_session_duration));
    if (d < limits_.sts_min_duration || d > role.max_session_duration)
      return err::invalid("InvalidParameter.DurationSeconds",
                          "DurationSeconds must be " + std::to_string(limits_.sts_min_duration) + " to " +
                              std::to_string(role.max_session_duration) + " (the role's MaxSessionDuration).");
    StsCredentials c;
    do {
      c.access_key_id = "STS." + store::random_string(25, store::kAlnum);
    } while (db.query("SELECT 1 FROM sts_sessions WHERE access_key_id = ?", c.access_key_id).step());
    c.access_key_secret = store::random_string(44, store::kAlnum);
    c.security_token = "CAIS" + store::base64_encode(store::random_bytes(96));
    int64_t t = now();
    c.expiration = t + d;
    c.assumed_role_id = role.role_id + ":" + std::string(session_name);
    c.assumed_role_arn = "acs:ram::" + account + ":assumed-role/" + detail::lower(role.name) + "/" +
                         std::string(session_name);
    db.run("DELETE FROM sts_sessions WHERE expires_at < ?", t - 86400);  // housekeeping
    c.source_identity = opts.source_identity.value_or("");
    db.run("INSERT INTO sts_sessions(access_key_id, account_id, role_name, session_name, secret_enc, token_enc, "
           "session_policy, caller_arn, created_at, expires_at, source_identity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
           c.access_key_id, account, role.name, session_name,
           store::Blob{store_->box().seal(c.access_key_secret, c.access_key_id)},
           store::Blob{store_->box().seal(c.security_token, c.access_key_id)}, session_policy, caller.arn(), t,
           c.expiration, opts.source_identity);
    tx.commit();
    bump(account);
    return c;
  });
}

std::vector<std::string> trusted_foreign_accounts(std::string_view own_account, std::string_view trust_policy) {
  std::vector<std::string> out;
  std::error_code ec;
  json::value v = json::parse(trust_policy, ec);
  if (ec || !v.is_object()) return out;
  auto st = v.as_object().if_contains("Statement");
  if (!st) return out;
  json::array stmts = st->is_array() ? st->as_array() : json::array{*st};
  for (const auto& sv : stmts) {
    if (!sv.is_object()) continue;
    const auto& s = sv.as_object();
    auto eff = s.if_contains("Effect");
    if (!eff || !eff->is_string() || eff->as_string() != "Allow") continue;
    auto pr = s.if_contains("Principal");
    if (!pr || !pr->is_object()) continue;
    for (const auto& e : strings_of(pr->as_object().if_contains("RAM"))) {
      std::string acct(entry_account(e));
      if (any_account(e) || acct == own_account) continue;
      if (std::find(out.begin(), out.end(), acct) == out.end()) out.push_back(std::move(acct));
    }
  }
  return out;
}

Result<IamService::SessionInfo> IamService::get_sts_session(std::string_view sts_key_id) {
  return guarded([&]() -> Result<SessionInfo> {
    std::lock_guard lk(store_->mutex());
    auto q = store_->db().query(
        "SELECT account_id, role_name, session_name, session_policy, expires_at, COALESCE(source_identity, '') "
        "FROM sts_sessions WHERE "
        "access_key_id = ?",
        sts_key_id);
    if (!q.step())
      return err::not_exist("EntityNotExist.AccessKey",
                            "The STS access key \"" + std::string(sts_key_id) + "\" does not exist.");
    SessionInfo s;
    s.account_id = q.text(0);
    s.role_name = q.text(1);
    s.session_name = q.text(2);
    if (!q.is_null(3)) s.session_policy = q.text(3);
    s.expires_at = q.int64(4);
    s.source_identity = q.text(5);
    return s;
  });
}

}  // namespace sluice::iam
