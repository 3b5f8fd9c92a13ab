// Custom policies and their versions; system policies are served read-only.
#include <mutex>

#include "iam/iam_service.hpp"
#include "iam/internal.hpp"
#include "iam/system_catalog.hpp"
#include "store/store.hpp"

namespace sluice::iam {

using namespace detail;

namespace {
Error no_policy(PolicyType t, std::string_view name) {
  return err::not_exist("EntityNotExist.Policy", std::string("The ") + to_string(t) + " policy \"" + std::string(name) +
                                                     "\" does not exist. Check the name and the policy type "
                                                     "(System or Custom).");
}
Error no_version(std::string_view name, std::string_view v) {
  return err::not_exist("EntityNotExist.PolicyVersion", "The policy \"" + std::string(name) + "\" has no version \"" +
                                                            std::string(v) + "\".");
}
std::optional<Error> check_document(std::string_view doc, size_t max_chars) {
  auto r = policy::parse(doc, max_chars);
  if (!r.ok()) return err::malformed_policy(r.error.empty() ? "MalformedPolicyDocument: the document is invalid" : r.error);
  return std::nullopt;
}
size_t attachment_count(store::Db& db, std::string_view acct, PolicyType t, std::string_view name) {
  auto q = db.query("SELECT COUNT(*) FROM attachments WHERE account_id = ? AND policy_type = ? AND policy_name = ?",
                    acct, to_string(t), name);
  q.step();
  return static_cast<size_t>(q.int64(0));
}
Policy system_policy_view(const SystemPolicy& s) {
  Policy p;
  p.name = s.name;
  p.type = PolicyType::System;
  p.description = s.description;
  p.default_version = "v1";
  p.high_risk = s.high_risk;
  return p;
}
}  // namespace

Result<Policy> IamService::create_policy(std::string_view account_id, std::string_view name,
                                         std::string_view document, std::string_view description) {
  if (auto e = check_name("PolicyName", name, 1, 128, "-")) return *e;
  if (auto e = check_length("Description", description, 0, 1024)) return *e;
  if (auto e = check_document(document, limits_.policy_document_max_chars)) return *e;
  return write_tx(account_id, [&](store::Db& db) -> Result<Policy> {
    if (auto s = account_exists(account_id); !s) return s.error();
    if (db.query("SELECT 1 FROM policies WHERE account_id = ? AND name = ?", account_id, name).step())
      return err::already_exists("EntityAlreadyExists.Policy", "A custom policy named \"" + std::string(name) +
                                                                   "\" already exists; add a version to it instead.");
    auto c = db.query("SELECT COUNT(*) FROM policies WHERE account_id = ?", account_id);
    c.step();
    if (static_cast<size_t>(c.int64(0)) >= limits_.custom_policies_per_account)
      return err::limit("LimitExceeded.Policy", "This account already has " + std::to_string(c.int64(0)) +
                                                    " custom policies, the maximum. Delete unused ones first.");
    Policy p;
    p.name = name;
    p.type = PolicyType::Custom;
    p.description = description;
    p.default_version = "v1";
    p.created_at = now();
    db.run("INSERT INTO policies VALUES (?, ?, ?, 'v1', 2, ?, ?)", account_id, name, description, p.created_at,
           p.created_at);
    db.run("INSERT INTO policy_versions VALUES (?, ?, 'v1', ?, ?)", account_id, name, document, p.created_at);
    return p;
  });
}

Result<Policy> IamService::get_policy(std::string_view account_id, PolicyType type, std::string_view name) {
  return guarded([&]() -> Result<Policy> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    if (type == PolicyType::System) {
      const SystemPolicy* s = find_system_policy(name);
      if (!s) return no_policy(type, name);
      Policy p = system_policy_view(*s);
      p.attachment_count = attachment_count(db, account_id, type, name);
      return p;
    }
    auto q = db.query("SELECT description, default_version, created_at FROM policies WHERE account_id = ? AND name = ?",
                      account_id, name);
    if (!q.step()) return no_policy(type, name);
    Policy p;
    p.name = name;
    p.type = type;
    p.description = q.text(0);
    p.default_version = q.text(1);
    p.created_at = q.int64(2);
    p.attachment_count = attachment_count(db, account_id, type, name);
    return p;
  });
}

Result<std::vector<Policy>> IamService::list_policies(std::string_view account_id, std::optional<PolicyType> type) {
  return guarded([&]() -> Result<std::vector<Policy>> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    std::vector<Policy> out;
    if (!type || *type == PolicyType::System) {
      for (const auto& s : system_policies()) {
        Policy p = system_policy_view(s);
        p.attachment_count = attachment_count(db, account_id, PolicyType::System, s.name);
        out.push_back(std::move(p));
      }
    }
    if (!type || *type == PolicyType::Custom) {
      auto q = db.query(
          "SELECT p.name, p.description, p.default_version, p.created_at, "
          "(SELECT COUNT(*) FROM attachments a WHERE a.account_id = p.account_id AND a.policy_type = 'Custom' AND "
          "a.policy_name = p.name) FROM policies p WHERE p.account_id = ? ORDER BY p.name",
          account_id);
      while (q.step()) {
        Policy p;
        p.name = q.text(0);
        p.type = PolicyType::Custom;
        p.description = q.text(1);
        p.default_version = q.text(2);
        p.created_at = q.int64(3);
        p.attachment_count = static_cast<size_t>(q.int64(4));
        out.push_back(std::move(p));
      }
    }
    return out;
  });
}

Status IamService::delete_policy(std::string_view account_id, std::string_view name) {
  return delete_policy(account_id, name, false);
}

Result<Policy> IamService::update_policy_description(std::string_view account_id, std::string_view name,
                                                     std::string_view description) {
  if (auto e = check_length("NewDescription", description, 0, 1024)) return *e;
  auto r = write_tx(account_id, [&](store::Db& db) -> Result<bool> {
    if (db.run("UPDATE policies SET description = ?, updated_at = ? WHERE account_id = ? AND name = ?", description,
               now(), account_id, name) == 0)
      return no_policy(PolicyType::Custom, name);
    return true;
  });
  if (!r) return r.error();
  return get_policy(account_id, PolicyType::Custom, name);
}

Status IamService::delete_policy(std::string_view account_id, std::string_view name, bool cascading) {
  return guarded_tx([&]() -> Status {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    IamTx tx(*this, account_id);
    auto q = db.query("SELECT default_version FROM policies WHERE account_id = ? AND name = ?", account_id, name);
    if (!q.step()) return no_policy(PolicyType::Custom, name);
    std::string def = q.text(0);
    // CascadingDelete: every attachment and every other version goes in this transaction, then the policy.
    if (cascading) {
      db.run("DELETE FROM attachments WHERE account_id = ? AND policy_type = 'Custom' AND policy_name = ?", account_id,
             name);
      db.run("DELETE FROM policy_versions WHERE account_id = ? AND policy_name = ? AND version_id <> ?", account_id,
             name, def);
    }
    auto a = db.query("SELECT principal_type, principal_name FROM attachments WHERE account_id = ? AND policy_type = "
                      "'Custom' AND policy_name = ? LIMIT 1",
                      account_id, name);
    if (a.step())
      return err::conflict("DeleteConflict.Policy." + a.text(0),
                           "The policy \"" + std::string(name) + "\" is still attached (for example to " + a.text(0) +
                               " \"" + a.text(1) + "\"); detach it everywhere first.");
    if (db.query("SELECT 1 FROM policy_versions WHERE account_id = ? AND policy_name = ? AND version_id <> ?",
                 account_id, name, def)
            .step())
      return err::conflict("DeleteConflict.Policy.Version",
                           "The policy \"" + std::string(name) +
                               "\" has non-default versions; delete them before deleting the policy.");
    db.run("DELETE FROM policies WHERE account_id = ? AND name = ?", account_id, name);  // versions cascade
    tx.commit();
    {
      std::unique_lock cl(cache_mu_);
      doc_cache_.clear();  // a policy re-created under this name restarts at v1
    }
    bump(account_id);
    return {};
  });
}

Result<PolicyVersion> IamService::create_policy_version(std::string_view account_id, std::string_view name,
                                                        std::string_view document, bool set_as_default, bool rotate) {
  if (auto e = check_document(document, limits_.policy_document_max_chars)) return *e;
  return guarded_tx([&]() -> Result<PolicyVersion> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    IamTx tx(*this, account_id);
    auto q = db.query("SELECT default_version, next_version FROM policies WHERE account_id = ? AND name = ?",
                      account_id, name);
    if (!q.step()) return no_policy(PolicyType::Custom, name);
    std::string def = q.text(0);
    int64_t next = q.int64(1);
    auto c = db.query("SELECT COUNT(*) FROM policy_versions WHERE account_id = ? AND policy_name = ?", account_id, name);
    c.step();
    if (static_cast<size_t>(c.int64(0)) >= limits_.versions_per_policy) {
      if (!rotate)
        return err::limit("LimitExceeded.Policy.Version",
                          "The policy \"" + std::string(name) + "\" already has " + std::to_string(c.int64(0)) +
                              " versions, the maximum. Delete a non-default version, or ask to rotate (delete the "
                              "oldest non-default version).");
      auto o = db.query("SELECT version_id FROM policy_versions WHERE account_id = ? AND policy_name = ? AND "
                        "version_id <> ? ORDER BY created_at, CAST(substr(version_id, 2) AS INTEGER) LIMIT 1",
                        account_id, name, def);
      if (o.step()) db.run("DELETE FROM policy_versions WHERE account_id = ? AND policy_name = ? AND version_id = ?",
                           account_id, name, o.text(0));
    }
    PolicyVersion v;
    v.version_id = "v" + std::to_string(next);
    v.document = document;
    v.created_at = now();
    v.is_default = set_as_default;
    db.run("INSERT INTO policy_versions VALUES (?, ?, ?, ?, ?)", account_id, name, v.version_id, v.document,
           v.created_at);
    db.run("UPDATE policies SET next_version = ?, updated_at = ?, default_version = CASE WHEN ? THEN ? ELSE "
           "default_version END WHERE account_id = ? AND name = ?",
           next + 1, v.created_at, set_as_default, v.version_id, account_id, name);
    tx.commit();
    bump(account_id);
    return v;
  });
}

Result<PolicyVersion> IamService::get_policy_version(std::string_view account_id, PolicyType type,
                                                     std::string_view name, std::string_view version_id) {
  auto all = list_policy_versions(account_id, type, name);
  if (!all) return all.error();
  for (auto& v : *all)
    if (v.version_id == version_id) return v;
  return no_version(name, version_id);
}

Result<std::vector<PolicyVersion>> IamService::list_policy_versions(std::string_view account_id, PolicyType type,
                                                                    std::string_view name) {
  if (type == PolicyType::System) {
    const SystemPolicy* s = find_system_policy(name);
    if (!s) return no_policy(type, name);
    return std::vector<PolicyVersion>{PolicyVersion{"v1", true, s->document, 0}};
  }
  return guarded([&]() -> Result<std::vector<PolicyVersion>> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    auto p = db.query("SELECT default_version FROM policies WHERE account_id = ? AND name = ?", account_id, name);
    if (!p.step()) return no_policy(type, name);
    std::string def = p.text(0);
    auto q = db.query("SELECT version_id, document, created_at FROM policy_versions WHERE account_id = ? AND "
                      "policy_name = ? ORDER BY CAST(substr(version_id, 2) AS INTEGER)",
                      account_id, name);
    std::vector<PolicyVersion> out;
    while (q.step()) out.push_back(PolicyVersion{q.text(0), q.text(0) == def, q.text(1), q.int64(2)});
    return out;
  });
}

Status IamService::delete_policy_version(std::string_view account_id, std::string_view name,
                                         std::string_view version_id) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    auto p = db.query("SELECT default_version FROM policies WHERE account_id = ? AND name = ?", account_id, name);
    if (!p.step()) return no_policy(PolicyType::Custom, name);
    if (p.text(0) == version_id)
      return err::conflict("DeleteConflict.PolicyVersion.Default",
                           "The version " + std::string(version_id) + " is the default version of \"" +
                               std::string(name) + "\"; set another version as default first.");
    if (db.run("DELETE FROM policy_versions WHERE account_id = ? AND policy_name = ? AND version_id = ?", account_id,
               name, version_id) == 0)
      return no_version(name, version_id);
    return {};
  });
}

Status IamService::set_default_policy_version(std::string_view account_id, std::string_view name,
                                              std::string_view version_id) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (!db.query("SELECT 1 FROM policies WHERE account_id = ? AND name = ?", account_id, name).step())
      return no_policy(PolicyType::Custom, name);
    if (!db.query("SELECT 1 FROM policy_versions WHERE account_id = ? AND policy_name = ? AND version_id = ?",
                  account_id, name, version_id)
             .step())
      return no_version(name, version_id);
    db.run("UPDATE policies SET default_version = ?, updated_at = ? WHERE account_id = ? AND name = ?", version_id,
           now(), account_id, name);
    return {};
  });
}

}  // namespace sluice::iam
