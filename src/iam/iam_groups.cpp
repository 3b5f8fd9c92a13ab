// RAM groups and membership.
#include <mutex>

#include "iam/iam_service.hpp"
#include "iam/internal.hpp"
#include "store/store.hpp"

namespace sluice::iam {

using namespace detail;

namespace {
constexpr std::string_view kGroupCols = "SELECT account_id, name, group_id, comments, created_at FROM groups ";
Group read_group(store::Stmt& q) { return Group{q.text(0), q.text(1), q.text(2), q.text(3), q.int64(4)}; }
Error no_group(std::string_view name) {
  return err::not_exist("EntityNotExist.Group",
                        "The group \"" + std::string(name) + "\" does not exist in this account.");
}
Error no_user(std::string_view name) {
  return err::not_exist("EntityNotExist.User", "The user \"" + std::string(name) + "\" does not exist in this account.");
}
bool group_exists(store::Db& db, std::string_view acct, std::string_view name) {
  return db.query("SELECT 1 FROM groups WHERE account_id = ? AND name = ?", acct, name).step();
}
bool user_exists(store::Db& db, std::string_view acct, std::string_view name) {
  return db.query("SELECT 1 FROM users WHERE account_id = ? AND name = ?", acct, name).step();
}
std::optional<Error> check_group(std::string_view name, std::string_view comments) {
  if (auto e = check_name("GroupName", name, 1, 64, "-")) return e;
  if (auto e = check_length("Comments", comments, 0, 128)) return e;
  return std::nullopt;
}
}  // namespace

Result<Group> IamService::create_group(std::string_view account_id, std::string_view name, std::string_view comments) {
  if (auto e = check_group(name, comments)) return *e;
  return write_tx(account_id, [&](store::Db& db) -> Result<Group> {
    if (auto s = account_exists(account_id); !s) return s.error();
    if (group_exists(db, account_id, name))
      return err::already_exists("EntityAlreadyExists.Group",
                                 "The group \"" + std::string(name) + "\" already exists in this account.");
    auto c = db.query("SELECT COUNT(*) FROM groups WHERE account_id = ?", account_id);
    c.step();
    if (static_cast<size_t>(c.int64(0)) >= limits_.groups_per_account)
      return err::limit("LimitExceeded.Group", "This account already has the maximum of " +
                                                   std::to_string(limits_.groups_per_account) + " groups.");
    Group g{std::string(account_id), std::string(name), "", std::string(comments), now()};
    do {
      g.group_id = numeric_id(16);
    } while (db.query("SELECT 1 FROM groups WHERE group_id = ?", g.group_id).step());
    db.run("INSERT INTO groups VALUES (?, ?, ?, ?, ?, ?)", g.account_id, g.name, g.group_id, g.comments, g.created_at,
           g.created_at);
    return g;
  });
}

Result<Group> IamService::get_group(std::string_view account_id, std::string_view name) {
  return guarded([&]() -> Result<Group> {
    std::lock_guard lk(store_->mutex());
    auto q = store_->db().query(std::string(kGroupCols) + "WHERE account_id = ? AND name = ?", account_id, name);
    if (!q.step()) return no_group(name);
    return read_group(q);
  });
}

Result<std::vector<Group>> IamService::list_groups(std::string_view account_id) {
  return guarded([&]() -> Result<std::vector<Group>> {
    std::lock_guard lk(store_->mutex());
    if (auto s = account_exists(account_id); !s) return s.error();
    auto q = store_->db().query(std::string(kGroupCols) + "WHERE account_id = ? ORDER BY name", account_id);
    std::vector<Group> out;
    while (q.step()) out.push_back(read_group(q));
    return out;
  });
}

Result<Group> IamService::update_group(std::string_view account_id, std::string_view name,
                                       std::optional<std::string> new_name, std::optional<std::string> comments) {
  return write_tx(account_id, [&](store::Db& db) -> Result<Group> {
    auto q = db.query(std::string(kGroupCols) + "WHERE account_id = ? AND name = ?", account_id, name);
    if (!q.step()) return no_group(name);
    Group g = read_group(q);
    if (new_name) g.name = *new_name;
    if (comments) g.comments = *comments;
    if (auto e = check_group(g.name, g.comments)) return *e;
    if (g.name != name && group_exists(db, account_id, g.name))
      return err::already_exists("EntityAlreadyExists.Group", "Cannot rename to \"" + g.name + "\": it exists.");
    db.run("UPDATE groups SET name = ?, comments = ?, updated_at = ? WHERE account_id = ? AND name = ?", g.name,
           g.comments, now(), account_id, name);
    if (g.name != name)
      db.run("UPDATE attachments SET principal_name = ? WHERE account_id = ? AND principal_type = 'Group' AND "
             "principal_name = ?",
             g.name, account_id, name);
    return g;
  });
}

Status IamService::delete_group(std::string_view account_id, std::string_view name) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (!group_exists(db, account_id, name)) return no_group(name);
    if (db.query("SELECT 1 FROM group_members WHERE account_id = ? AND group_name = ?", account_id, name).step())
      return err::conflict("DeleteConflict.Group.User",
                           "The group \"" + std::string(name) + "\" still has members; remove them first.");
    if (db.query("SELECT 1 FROM attachments WHERE account_id = ? AND principal_type = 'Group' AND principal_name = ?",
                 account_id, name)
            .step())
      return err::conflict("DeleteConflict.Group.Policy",
                           "The group \"" + std::string(name) + "\" still has policies attached; detach them first.");
    db.run("DELETE FROM groups WHERE account_id = ? AND name = ?", account_id, name);
    return {};
  });
}

Status IamService::add_user_to_group(std::string_view account_id, std::string_view group, std::string_view user) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (!group_exists(db, account_id, group)) return no_group(group);
    if (!user_exists(db, account_id, user)) return no_user(user);
    if (db.query("SELECT 1 FROM group_members WHERE account_id = ? AND group_name = ? AND user_name = ?", account_id,
                 group, user)
            .step())
      return err::already_exists("EntityAlreadyExists.User.Group", "The user \"" + std::string(user) +
                                                                       "\" is already in the group \"" +
                                                                       std::string(group) + "\".");
    auto c = db.query("SELECT COUNT(*) FROM group_members WHERE account_id = ? AND user_name = ?", account_id, user);
    c.step();
    if (static_cast<size_t>(c.int64(0)) >= limits_.groups_per_user)
      return err::limit("LimitExceeded.User.Group", "The user \"" + std::string(user) + "\" is already in " +
                                                        std::to_string(c.int64(0)) +
                                                        " groups, the maximum. Remove it from a group first.");
    db.run("INSERT INTO group_members VALUES (?, ?, ?, ?)", account_id, group, user, now());
    return {};
  });
}

Status IamService::remove_user_from_group(std::string_view account_id, std::string_view group, std::string_view user) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (!group_exists(db, account_id, group)) return no_group(group);
    if (!user_exists(db, account_id, user)) return no_user(user);
    if (db.run("DELETE FROM group_members WHERE account_id = ? AND group_name = ? AND user_name = ?", account_id, group,
               user) == 0)
      return err::not_exist("EntityNotExist.User.Group", "The user \"" + std::string(user) + "\" is not in the group \"" +
                                                             std::string(group) + "\".");
    return {};
  });
}

Result<std::vector<Group>> IamService::list_groups_for_user(std::string_view account_id, std::string_view user) {
  return guarded([&]() -> Result<std::vector<Group>> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    if (!user_exists(db, account_id, user)) return no_user(user);
    auto q = db.query(
        "SELECT g.account_id, g.name, g.group_id, g.comments, g.created_at FROM groups g JOIN group_members m "
        "ON m.account_id = g.account_id AND m.group_name = g.name WHERE m.account_id = ? AND m.user_name = ? "
        "ORDER BY m.joined_at, g.name",
        account_id, user);
    std::vector<Group> out;
    while (q.step()) out.push_back(read_group(q));
    return out;
  });
}

Result<std::vector<User>> IamService::list_users_for_group(std::string_view account_id, std::string_view group) {
  return guarded([&]() -> Result<std::vector<User>> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    if (!group_exists(db, account_id, group)) return no_group(group);
    auto q = db.query(
        "SELECT u.account_id, u.name, u.user_id, u.display_name, u.comments, u.created_at, u.updated_at, u.email, "
        "u.mobile_phone FROM users u "
        "JOIN group_members m ON m.account_id = u.account_id AND m.user_name = u.name "
        "WHERE m.account_id = ? AND m.group_name = ? ORDER BY u.name",
        account_id, group);
    std::vector<User> out;
    while (q.step()) out.push_back(read_user(q));
    return out;
  });
}

}  // namespace sluice::iam
