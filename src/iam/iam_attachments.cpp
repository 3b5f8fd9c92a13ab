// Attachments (principal, policy, scope) and the grant lists built from them.
#include <mutex>

#include "iam/iam_service.hpp"
#include "iam/internal.hpp"
#include "iam/system_catalog.hpp"
#include "store/store.hpp"

namespace sluice::iam {

using namespace detail;

namespace {
bool principal_exists(store::Db& db, std::string_view acct, const PrincipalRef& p) {
  const char* sql = p.type == PrincipalType::User    ? "SELECT 1 FROM users WHERE account_id = ? AND name = ?"
                    : p.type == PrincipalType::Group ? "SELECT 1 FROM groups WHERE account_id = ? AND name = ?"
                                                     : "SELECT 1 FROM roles WHERE account_id = ? AND name = ?";
  return db.query(sql, acct, p.name).step();
}
Error no_principal(const PrincipalRef& p) {
  return err::not_exist(std::string("EntityNotExist.") + to_string(p.type),
                        std::string("The ") + detail::lower(to_string(p.type)) + " \"" + p.name +
                            "\" does not exist in this account.");
}
std::string scope_text(const std::string& rg) { return rg.empty() ? "the account" : "resource group " + rg; }
}  // namespace

Status IamService::attach_policy(std::string_view account_id, const PrincipalRef& principal, PolicyType type,
                                 std::string_view policy_name, std::string_view resource_group_id) {
  std::string rg = resource_group_id == account_id ? std::string() : std::string(resource_group_id);
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (auto s = account_exists(account_id); !s) return s;
    if (!principal_exists(db, account_id, principal)) return no_principal(principal);
    if (type == PolicyType::System ? !find_system_policy(policy_name)
                                   : !db.query("SELECT 1 FROM policies WHERE account_id = ? AND name = ?", account_id,
                                               policy_name)
                                          .step())
      return err::not_exist("EntityNotExist.Policy", std::string("The ") + to_string(type) + " policy \"" +
                                                         std::string(policy_name) + "\" does not exist.");
    if (!rg.empty() &&
        !db.query("SELECT 1 FROM resource_groups WHERE account_id = ? AND id = ?", account_id, rg).step())
      return err::not_exist("EntityNotExist.ResourceGroup",
                            "The resource group \"" + rg + "\" does not exist in this account.");
    const std::string ptype = to_string(principal.type);
    if (db.query("SELECT 1 FROM attachments WHERE account_id = ? AND principal_type = ? AND principal_name = ? AND "
                 "policy_type = ? AND policy_name = ? AND scope_rg = ?",
                 account_id, ptype, principal.name, to_string(type), policy_name, rg)
            .step())
      return err::already_exists("EntityAlreadyExists." + ptype + ".Policy",
                                 "The policy \"" + std::string(policy_name) + "\" is already attached to " +
                                     detail::lower(ptype) + " \"" + principal.name + "\" at " + scope_text(rg) + ".");
    auto c = db.query("SELECT COUNT(*) FROM attachments WHERE account_id = ? AND principal_type = ? AND "
                      "principal_name = ? AND policy_type = ?",
                      account_id, ptype, principal.name, to_string(type));
    c.step();
    size_t max = type == PolicyType::System ? limits_.system_policies_per_principal
                                            : limits_.custom_policies_per_principal;
    if (static_cast<size_t>(c.int64(0)) >= max)
      return err::limit("LimitExceeded." + ptype + ".Policy",
                        "The " + detail::lower(ptype) + " \"" + principal.name + "\" already has " +
                            std::to_string(c.int64(0)) + " " + to_string(type) +
                            " policies attached, the maximum. Detach one first or grant through a group.");
    db.run("INSERT INTO attachments VALUES (?, ?, ?, ?, ?, ?, ?)", account_id, ptype, principal.name, to_string(type),
           policy_name, rg, now());
    return {};
  });
}

Status IamService::detach_policy(std::string_view account_id, const PrincipalRef& principal, PolicyType type,
                                 std::string_view policy_name, std::string_view resource_group_id) {
  std::string rg = resource_group_id == account_id ? std::string() : std::string(resource_group_id);
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (!principal_exists(db, account_id, principal)) return no_principal(principal);
    // An unknown group is named as such, as attach_policy does, rather than
    // answered "not attached there" (or, before, read as the account scope).
    if (!rg.empty() &&
        !db.query("SELECT 1 FROM resource_groups WHERE account_id = ? AND id = ?", account_id, rg).step())
      return err::not_exist("EntityNotExist.ResourceGroup",
                            "The resource group \"" + rg + "\" does not exist in this account.");
    const std::string ptype = to_string(principal.type);
    if (db.run("DELETE FROM attachments WHERE account_id = ? AND principal_type = ? AND principal_name = ? AND "
               "policy_type = ? AND policy_name = ? AND scope_rg = ?",
               account_id, ptype, principal.name, to_string(type), policy_name, rg) == 0)
      return err::not_exist("EntityNotExist." + ptype + ".Policy",
                            "The policy \"" + std::string(policy_name) + "\" is not attached to " +
                                detail::lower(ptype) + " \"" + principal.name + "\" at " + scope_text(rg) + ".");
    return {};
  });
}

Result<std::vector<Attachment>> IamService::list_attachments(std::string_view account_id, const AttachmentFilter& f) {
  return guarded([&]() -> Result<std::vector<Attachment>> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    auto q = db.query(
        "SELECT principal_type, principal_name, policy_type, policy_name, scope_rg, attached_at FROM attachments "
        "WHERE account_id = ? AND (CAST(? AS TEXT) IS NULL OR (principal_type = ? AND principal_name = ?)) "
        "AND (CAST(? AS TEXT) IS NULL OR policy_type = ?) AND (CAST(? AS TEXT) IS NULL OR policy_name = ?) "
        "AND (CAST(? AS TEXT) IS NULL OR scope_rg = ?) ORDER BY attached_at, " +
            insertion_order(db),
        account_id, f.principal ? std::optional<std::string>(to_string(f.principal->type)) : std::nullopt,
        f.principal ? std::optional<std::string>(to_string(f.principal->type)) : std::nullopt,
        f.principal ? std::optional<std::string>(f.principal->name) : std::nullopt,
        f.policy_type ? std::optional<std::string>(to_string(*f.policy_type)) : std::nullopt,
        f.policy_type ? std::optional<std::string>(to_string(*f.policy_type)) : std::nullopt, f.policy_name,
        f.policy_name,
        f.resource_group_id ? std::optional<std::string>(*f.resource_group_id == account_id ? "" : *f.resource_group_id)
                            : std::nullopt,
        f.resource_group_id ? std::optional<std::string>(*f.resource_group_id == account_id ? "" : *f.resource_group_id)
                            : std::nullopt);
    std::vector<Attachment> out;
    while (q.step()) {
      Attachment a;
      bool ok = true;
      a.account_id = account_id;
      a.principal.type = principal_type_from(q.text(0), &ok);
      a.principal.name = q.text(1);
      a.policy_type = policy_type_from(q.text(2), &ok);
      a.policy_name = q.text(3);
      a.resource_group_id = q.text(4);
      a.attached_at = q.int64(5);
      out.push_back(std::move(a));
    }
    return out;
  });
}

// ---- Grants (called with the store mutex held) ----

std::shared_ptr<const policy::Document> IamService::custom_doc(std::string_view account_id, std::string_view name,
                                                               std::string* version) {
  auto& db = store_->db();
  auto q = db.query(
      "SELECT p.default_version, v.document FROM policies p JOIN policy_versions v ON v.account_id = p.account_id AND "
      "v.policy_name = p.name AND v.version_id = p.default_version WHERE p.account_id = ? AND p.name = ?",
      account_id, name);
  if (!q.step()) return nullptr;
  *version = q.text(0);
  std::string k = key_for(account_id, name, *version);
  {
    std::shared_lock cl(cache_mu_);
    auto it = doc_cache_.find(k);
    if (it != doc_cache_.end()) return it->second;
  }
  // Stored documents were validated when written; parse with no size cap so a
  // later, smaller limit does not silently drop a grant.
  auto r = policy::parse(q.text(1), static_cast<size_t>(-1));
  if (!r.ok()) return nullptr;
  std::unique_lock cl(cache_mu_);
  doc_cache_[k] = r.doc;
  return r.doc;
}

Result<std::vector<policy::Grant>> IamService::grants_of(std::string_view account_id, PrincipalType type,
                                                         std::string_view name, std::string via) {
  auto& db = store_->db();
  auto q = db.query(
      "SELECT policy_type, policy_name, scope_rg FROM attachments WHERE account_id = ? AND principal_type = ? AND "
      "principal_name = ? ORDER BY attached_at, " +
          insertion_order(db),
      account_id, to_string(type), name);
  std::vector<std::tuple<std::string, std::string, std::string>> rows;
  while (q.step()) rows.emplace_back(q.text(0), q.text(1), q.text(2));
  std::vector<policy::Grant> out;
  for (auto& [ptype, pname, rg] : rows) {
    policy::Grant g;
    g.policy_name = pname;
    g.policy_type = ptype;
    g.scope.kind = rg.empty() ? policy::Scope::Kind::Account : policy::Scope::Kind::ResourceGroup;
    g.scope.resource_group_id = rg;
    g.via = via;
    if (ptype == "System") {
      const SystemPolicy* s = find_system_policy(pname);
      if (!s || !s->doc) continue;
      g.version_id = "v1";
      g.doc = s->doc;
    } else {
      g.doc = custom_doc(account_id, pname, &g.version_id);
      if (!g.doc) continue;
    }
    out.push_back(std::move(g));
  }
  return out;
}

Result<std::vector<policy::Grant>> IamService::grants_for_user(std::string_view account_id, std::string_view user) {
  return guarded([&]() -> Result<std::vector<policy::Grant>> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    if (!principal_exists(db, account_id, PrincipalRef{PrincipalType::User, std::string(user)}))
      return no_principal(PrincipalRef{PrincipalType::User, std::string(user)});
    auto out = grants_of(account_id, PrincipalType::User, user, "user");
    if (!out) return out;
    std::vector<std::string> groups;
    auto q = db.query("SELECT group_name FROM group_members WHERE account_id = ? AND user_name = ? ORDER BY joined_at, "
                      "group_name",
                      account_id, user);
    while (q.step()) groups.push_back(q.text(0));
    for (const auto& g : groups) {
      auto more = grants_of(account_id, PrincipalType::Group, g, "group:" + g);
      if (!more) return more;
      for (auto& x : *more) out->push_back(std::move(x));
    }
    return out;
  });
}

Result<std::vector<policy::Grant>> IamService::grants_for_role(std::string_view account_id, std::string_view role) {
  return guarded([&]() -> Result<std::vector<policy::Grant>> {
    std::lock_guard lk(store_->mutex());
    if (!principal_exists(store_->db(), account_id, PrincipalRef{PrincipalType::Role, std::string(role)}))
      return no_principal(PrincipalRef{PrincipalType::Role, std::string(role)});
    return grants_of(account_id, PrincipalType::Role, role, "role:" + std::string(role));
  });
}

}  // namespace sluice::iam
