// Resource groups (ResourceManager) and the generic resource -> group table.
#include <mutex>

#include "iam/iam_service.hpp"
#include "iam/internal.hpp"
#include "store/store.hpp"

namespace sluice::iam {

using namespace detail;

namespace {
constexpr std::string_view kRgCols =
    "SELECT id, account_id, name, display_name, is_default, created_at FROM resource_groups ";
ResourceGroup read_rg(store::Stmt& q) {
  return ResourceGroup{q.text(0), q.text(1), q.text(2), q.text(3), q.int64(4) != 0, q.int64(5)};
}
Error no_rg(std::string_view id) {
  return err::not_exist("EntityNotExist.ResourceGroup",
                        "The resource group \"" + std::string(id) + "\" does not exist in this account.");
}
bool rg_exists(store::Db& db, std::string_view acct, std::string_view id) {
  return db.query("SELECT 1 FROM resource_groups WHERE account_id = ? AND id = ?", acct, id).step();
}
std::string ref_text(const ResourceRef& r) { return r.type + "/" + r.id; }
}  // namespace

Result<ResourceGroup> IamService::create_resource_group(std::string_view account_id, std::string_view name,
                                                        std::string_view display_name) {
  if (auto e = check_name("Name", name, 3, 50, "-._")) return *e;
  std::string display = display_name.empty() ? std::string(name) : std::string(display_name);
  if (auto e = check_length("DisplayName", display, 1, 50)) return *e;
  return write_tx(account_id, [&](store::Db& db) -> Result<ResourceGroup> {
    if (auto s = account_exists(account_id); !s) return s.error();
    if (db.query("SELECT 1 FROM resource_groups WHERE account_id = ? AND name = ?", account_id, name).step())
      return err::already_exists("EntityAlreadyExists.ResourceGroup",
                                 "A resource group named \"" + std::string(name) + "\" already exists.");
    auto c = db.query("SELECT COUNT(*) FROM resource_groups WHERE account_id = ?", account_id);
    c.step();
    if (static_cast<size_t>(c.int64(0)) >= limits_.resource_groups_per_account)
      return err::limit("LimitExceeded.ResourceGroup", "This account already has " + std::to_string(c.int64(0)) +
                                                           " resource groups, the maximum. Delete an empty one first.");
    ResourceGroup g{"", std::string(account_id), std::string(name), display, false, now()};
    do {
      g.id = "rg-" + store::random_string(15, store::kLowerAlnum);
    } while (db.query("SELECT 1 FROM resource_groups WHERE id = ?", g.id).step());
    db.run("INSERT INTO resource_groups VALUES (?, ?, ?, ?, 0, ?)", g.id, g.account_id, g.name, g.display_name,
           g.created_at);
    return g;
  });
}

Result<ResourceGroup> IamService::get_resource_group(std::string_view account_id, std::string_view id) {
  return guarded([&]() -> Result<ResourceGroup> {
    std::lock_guard lk(store_->mutex());
    auto q = store_->db().query(std::string(kRgCols) + "WHERE account_id = ? AND id = ?", account_id, id);
    if (!q.step()) return no_rg(id);
    return read_rg(q);
  });
}

Result<ResourceGroup> IamService::default_resource_group(std::string_view account_id) {
  return guarded([&]() -> Result<ResourceGroup> {
    std::lock_guard lk(store_->mutex());
    auto q = store_->db().query(std::string(kRgCols) + "WHERE account_id = ? AND is_default = 1", account_id);
    if (!q.step())
      return err::not_exist("EntityNotExist.Account", "The account " + std::string(account_id) + " does not exist.");
    return read_rg(q);
  });
}

Result<std::vector<ResourceGroup>> IamService::list_resource_groups(std::string_view account_id) {
  return guarded([&]() -> Result<std::vector<ResourceGroup>> {
    std::lock_guard lk(store_->mutex());
    if (auto s = account_exists(account_id); !s) return s.error();
    auto q = store_->db().query(std::string(kRgCols) + "WHERE account_id = ? ORDER BY is_default DESC, created_at, name",
                                account_id);
    std::vector<ResourceGroup> out;
    while (q.step()) out.push_back(read_rg(q));
    return out;
  });
}

Result<ResourceGroup> IamService::update_resource_group(std::string_view account_id, std::string_view id,
                                                        std::string_view display_name) {
  if (auto e = check_length("DisplayName", display_name, 1, 50)) return *e;
  auto r = write_tx(account_id, [&](store::Db& db) -> Result<ResourceGroup> {
    if (db.run("UPDATE resource_groups SET display_name = ? WHERE account_id = ? AND id = ?", display_name, account_id,
               id) == 0)
      return no_rg(id);
    return ResourceGroup{};
  });
  if (!r) return r;
  return get_resource_group(account_id, id);
}

Status IamService::delete_resource_group(std::string_view account_id, std::string_view id) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    auto q = db.query("SELECT is_default FROM resource_groups WHERE account_id = ? AND id = ?", account_id, id);
    if (!q.step()) return no_rg(id);
    if (q.int64(0))
      return err::conflict("DeleteConflict.ResourceGroup.Default",
                           "The default resource group of an account cannot be deleted.");
    if (db.query("SELECT 1 FROM resources WHERE resource_group_id = ?", id).step())
      return err::conflict("DeleteConflict.ResourceGroup.Resource",
                           "The resource group " + std::string(id) +
                               " still holds resources; move them to another group first.");
    if (db.query("SELECT 1 FROM attachments WHERE account_id = ? AND scope_rg = ?", account_id, id).step())
      return err::conflict("DeleteConflict.ResourceGroup.Attachment",
                           "Policies are still granted at the scope of resource group " + std::string(id) +
                               "; detach them first.");
    db.run("DELETE FROM resource_groups WHERE id = ?", id);
    return {};
  });
}

Result<ResourceEntry> IamService::register_resource(std::string_view account_id, const ResourceRef& ref,
                                                    std::string_view resource_group_id) {
  if (ref.type.empty() || ref.id.empty())
    return err::invalid("InvalidParameter.Resource", "A resource needs a type and an id.");
  auto r = guarded_tx([&]() -> Result<ResourceEntry> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    IamTx tx(*this, account_id);
    std::string rg(resource_group_id);
    if (rg.empty()) {
      auto q = db.query("SELECT id FROM resource_groups WHERE account_id = ? AND is_default = 1", account_id);
      if (!q.step())
        return err::not_exist("EntityNotExist.Account", "The account " + std::string(account_id) + " does not exist.");
      rg = q.text(0);
    } else if (!rg_exists(db, account_id, rg)) {
      return no_rg(rg);
    }
    if (db.query("SELECT 1 FROM resources WHERE account_id = ? AND resource_type = ? AND resource_id = ?", account_id,
                 ref.type, ref.id)
            .step())
      return err::already_exists("EntityAlreadyExists.Resource",
                                 "The resource " + ref_text(ref) + " is already registered.");
    ResourceEntry e{ref, std::string(account_id), rg, now()};
    db.run("INSERT INTO resources VALUES (?, ?, ?, ?, ?, ?, ?)", account_id, ref.type, ref.id, ref.service, ref.region,
           rg, e.created_at);
    tx.commit();
    {
      std::unique_lock cl(cache_mu_);
      resource_map_[key_for(account_id, ref.type, ref.id)] = rg;
    }
    bump(account_id);
    return e;
  });
  return r;
}

Status IamService::unregister_resource(std::string_view account_id, std::string_view type, std::string_view id) {
  return guarded_tx([&]() -> Status {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    IamTx tx(*this, account_id);
    if (db.run("DELETE FROM resources WHERE account_id = ? AND resource_type = ? AND resource_id = ?", account_id, type,
               id) == 0)
      return err::not_exist("EntityNotExist.Resource",
                            "The resource " + std::string(type) + "/" + std::string(id) + " is not registered.");
    tx.commit();
    {
      std::unique_lock cl(cache_mu_);
      resource_map_.erase(key_for(account_id, type, id));
    }
    bump(account_id);
    return {};
  });
}

Status IamService::move_resources(std::string_view account_id, std::string_view to_group,
                                  const std::vector<ResourceRef>& refs) {
  return guarded_tx([&]() -> Status {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    IamTx tx(*this, account_id);
    if (!rg_exists(db, account_id, to_group)) return no_rg(to_group);
    for (const auto& r : refs) {
      if (db.run("UPDATE resources SET resource_group_id = ? WHERE account_id = ? AND resource_type = ? AND "
                 "resource_id = ?",
                 to_group, account_id, r.type, r.id) == 0)
        return err::not_exist("EntityNotExist.Resource", "The resource " + ref_text(r) +
                                                             " is not registered in this account; nothing was moved.");
    }
    tx.commit();
    {
      std::unique_lock cl(cache_mu_);
      for (const auto& r : refs) resource_map_[key_for(account_id, r.type, r.id)] = std::string(to_group);
    }
    bump(account_id);
    return {};
  });
}

std::string IamService::resource_group_of(std::string_view account_id, std::string_view type,
                                          std::string_view id) const {
  std::string k = key_for(account_id, type, id);
  std::shared_lock lk(cache_mu_);
  auto it = resource_map_.find(k);
  return it == resource_map_.end() ? std::string() : it->second;
}

Result<std::vector<ResourceEntry>> IamService::list_resources(std::string_view account_id,
                                                              std::optional<std::string> resource_group_id) {
  return guarded([&]() -> Result<std::vector<ResourceEntry>> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    std::string sql =
        "SELECT service, region, resource_type, resource_id, resource_group_id, created_at FROM resources WHERE "
        "account_id = ?";
    if (resource_group_id) {
      if (!rg_exists(db, account_id, *resource_group_id)) return no_rg(*resource_group_id);
      sql += " AND resource_group_id = ?";
    }
    sql += " ORDER BY created_at, resource_type, resource_id";
    auto q = resource_group_id ? db.query(sql, account_id, *resource_group_id) : db.query(sql, account_id);
    std::vector<ResourceEntry> out;
    while (q.step())
      out.push_back(ResourceEntry{ResourceRef{q.text(0), q.text(1), q.text(2), q.text(3)}, std::string(account_id),
                                  q.text(4), q.int64(5)});
    return out;
  });
}

}  // namespace sluice::iam
