// RAM users and login profiles.
#include <mutex>

#include "iam/iam_service.hpp"
#include "iam/internal.hpp"
#include "store/password.hpp"
#include "store/store.hpp"

namespace sluice::iam {

using namespace detail;

User detail::read_user(store::Stmt& q) {
  User u;
  u.account_id = q.text(0);
  u.name = q.text(1);
  u.user_id = q.text(2);
  u.display_name = q.text(3);
  u.comments = q.text(4);
  u.created_at = q.int64(5);
  u.updated_at = q.int64(6);
  u.email = q.text(7);
  u.mobile_phone = q.text(8);
  return u;
}

namespace {
constexpr std::string_view kUserCols =
    "SELECT account_id, name, user_id, display_name, comments, created_at, updated_at, email, mobile_phone FROM users ";
// The cloud's forms: an email address, and "<country code>-<number>".
std::optional<Error> check_contact(const std::string& email, const std::string& phone) {
  if (auto e = check_length("Email", email, 0, 128)) return e;
  if (!email.empty()) {
    auto at = email.find('@');
    if (at == 0 || at == std::string::npos || email.find('.', at) == std::string::npos ||
        email.find_first_of(" \t\r\n<>\"") != std::string::npos)
      return err::invalid("InvalidParameter.Email", "Email must be an email address such as alice@example.com.");
  }
  if (auto e = check_length("MobilePhone", phone, 0, 32)) return e;
  if (!phone.empty()) {
    auto dash = phone.find('-');
    bool ok = dash != std::string::npos && dash > 0 && dash + 1 < phone.size();
    for (size_t i = 0; ok && i < phone.size(); ++i) ok = i == dash || (phone[i] >= '0' && phone[i] <= '9');
    if (!ok)
      return err::invalid("InvalidParameter.MobilePhone",
                          "MobilePhone must be <country code>-<number>, digits only, such as 86-18600008888.");
  }
  return std::nullopt;
}
Error no_user(std::string_view name) {
  return err::not_exist("EntityNotExist.User", "The user \"" + std::string(name) +
                                                   "\" does not exist in this account. Check the name (case-sensitive) "
                                                   "or list users.");
}
std::optional<Error> check_user_fields(std::string_view name, std::string_view display, std::string_view comments) {
  if (auto e = check_name("UserName", name, 1, 64, "._-")) return e;
  if (auto e = check_length("DisplayName", display, 1, 128)) return e;
  if (auto e = check_length("Comments", comments, 0, 128)) return e;
  return std::nullopt;
}
bool user_exists(store::Db& db, std::string_view acct, std::string_view name) {
  return db.query("SELECT 1 FROM users WHERE account_id = ? AND name = ?", acct, name).step();
}
LoginProfile read_profile(store::Stmt& q) {
  return LoginProfile{q.text(0), q.text(1), q.int64(2) != 0, q.int64(3) != 0, q.int64(4), 0};
}
}  // namespace

Result<User> IamService::create_user(std::string_view account_id, const UserInput& in) {
  return create_user(account_id, in, UserContact{});
}

Result<User> IamService::create_user(std::string_view account_id, const UserInput& in, const UserContact& contact) {
  std::string display = in.display_name.empty() ? in.name : in.display_name;
  if (auto e = check_user_fields(in.name, display, in.comments)) return *e;
  if (auto e = check_contact(contact.email, contact.mobile_phone)) return *e;
  return write_tx(account_id, [&](store::Db& db) -> Result<User> {
    if (auto s = account_exists(account_id); !s) return s.error();
    if (user_exists(db, account_id, in.name))
      return err::already_exists("EntityAlreadyExists.User",
                                 "The user \"" + in.name + "\" already exists in this account; choose another name.");
    auto c = db.query("SELECT COUNT(*) FROM users WHERE account_id = ?", account_id);
    c.step();
    if (static_cast<size_t>(c.int64(0)) >= limits_.users_per_account)
      return err::limit("LimitExceeded.User", "This account already has " + std::to_string(c.int64(0)) +
                                                  " RAM users, the limit. Delete unused users first.");
    User u;
    u.account_id = account_id;
    u.name = in.name;
    do {
      u.user_id = numeric_id(16);
    } while (db.query("SELECT 1 FROM users WHERE user_id = ?", u.user_id).step());
    u.display_name = display;
    u.comments = in.comments;
    u.created_at = u.updated_at = now();
    u.email = contact.email;
    u.mobile_phone = contact.mobile_phone;
    db.run("INSERT INTO users(account_id, name, user_id, display_name, comments, created_at, updated_at, email, "
           "mobile_phone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
           u.account_id, u.name, u.user_id, u.display_name, u.comments, u.created_at, u.updated_at, u.email,
           u.mobile_phone);
    return u;
  });
}

Result<User> IamService::get_user(std::string_view account_id, std::string_view name) {
  return guarded([&]() -> Result<User> {
    std::lock_guard lk(store_->mutex());
    auto q = store_->db().query(std::string(kUserCols) + "WHERE account_id = ? AND name = ?", account_id, name);
    if (!q.step()) return no_user(name);
    return read_user(q);
  });
}

Result<std::vector<User>> IamService::list_users(std::string_view account_id) {
  return guarded([&]() -> Result<std::vector<User>> {
    std::lock_guard lk(store_->mutex());
    if (auto s = account_exists(account_id); !s) return s.error();
    auto q = store_->db().query(std::string(kUserCols) + "WHERE account_id = ? ORDER BY name", account_id);
    std::vector<User> out;
    while (q.step()) out.push_back(read_user(q));
    return out;
  });
}

Result<User> IamService::update_user(std::string_view account_id, std::string_view name,
                                     std::optional<std::string> new_name, std::optional<std::string> display_name,
                                     std::optional<std::string> comments) {
  UserUpdate up;
  up.name = std::move(new_name);
  up.display_name = std::move(display_name);
  up.comments = std::move(comments);
  return update_user(account_id, name, up);
}

Result<User> IamService::update_user(std::string_view account_id, std::string_view name, const UserUpdate& up) {
  auto r = write_tx(account_id, [&](store::Db& db) -> Result<User> {
    auto q = db.query(std::string(kUserCols) + "WHERE account_id = ? AND name = ?", account_id, name);
    if (!q.step()) return no_user(name);
    User u = read_user(q);
    if (up.name) u.name = *up.name;
    if (up.display_name) u.display_name = *up.display_name;
    if (up.comments) u.comments = *up.comments;
    if (up.email) u.email = *up.email;
    if (up.mobile_phone) u.mobile_phone = *up.mobile_phone;
    if (auto e = check_user_fields(u.name, u.display_name, u.comments)) return *e;
    if (auto e = check_contact(u.email, u.mobile_phone)) return *e;
    if (u.name != name && user_exists(db, account_id, u.name))
      return err::already_exists("EntityAlreadyExists.User", "Cannot rename \"" + std::string(name) + "\" to \"" +
                                                                 u.name + "\": that user already exists.");
    u.updated_at = now();
    db.run("UPDATE users SET name = ?, display_name = ?, comments = ?, email = ?, mobile_phone = ?, updated_at = ? "
           "WHERE account_id = ? AND name = ?",
           u.name, u.display_name, u.comments, u.email, u.mobile_phone, u.updated_at, account_id, name);
    if (u.name != name) {  // grants follow the user
      db.run("UPDATE attachments SET principal_name = ? WHERE account_id = ? AND principal_type = 'User' AND "
             "principal_name = ?",
             u.name, account_id, name);
    }
    return u;
  });
  return r;
}

Status IamService::delete_user(std::string_view account_id, std::string_view name) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (!user_exists(db, account_id, name)) return no_user(name);
    if (db.query("SELECT 1 FROM access_keys WHERE account_id = ? AND user_name = ?", account_id, name).step())
      return err::conflict("DeleteConflict.User.AccessKey",
                           "The user \"" + std::string(name) + "\" still has access keys; delete them first.");
    if (db.query("SELECT 1 FROM group_members WHERE account_id = ? AND user_name = ?", account_id, name).step())
      return err::conflict("DeleteConflict.User.Group", "The user \"" + std::string(name) +
                                                            "\" is still a member of a group; remove it from its "
                                                            "groups first.");
    if (db.query("SELECT 1 FROM attachments WHERE account_id = ? AND principal_type = 'User' AND principal_name = ?",
                 account_id, name)
            .step())
      return err::conflict("DeleteConflict.User.Policy", "The user \"" + std::string(name) +
                                                             "\" still has policies attached; detach them first.");
    forget_user_login_generation(db, account_id, name);  // its console sessions end with it
    // Its MFA device stays in the account, unbound (as the cloud's DeleteUser).
    db.run("UPDATE mfa_devices SET user_name = NULL, activated_at = 0, last_step = 0 WHERE account_id = ? AND "
           "user_name = ?",
           account_id, name);
    db.run("DELETE FROM login_profiles WHERE account_id = ? AND user_name = ?", account_id, name);
    db.run("DELETE FROM users WHERE account_id = ? AND name = ?", account_id, name);
    return {};
  });
}

// ---- Login profiles ----

Result<LoginProfile> IamService::create_login_profile(std::string_view account_id, std::string_view user,
                                                      std::string_view password, bool password_reset_required,
                                                      bool mfa_bind_required) {
  auto vetted = vet_user_password(account_id, user, password);
  if (!vetted) return vetted.error();
  const std::string& hash = vetted->hash;
  return write_tx(account_id, [&](store::Db& db) -> Result<LoginProfile> {
    if (!user_exists(db, account_id, user)) return no_user(user);
    if (db.query("SELECT 1 FROM login_profiles WHERE account_id = ? AND user_name = ?", account_id, user).step())
      return err::already_exists("EntityAlreadyExists.User.LoginProfile",
                                 "The user \"" + std::string(user) +
                                     "\" already has a login profile; update it instead.");
    LoginProfile p{std::string(account_id), std::string(user), password_reset_required, mfa_bind_required, now(), 0};
    db.run("INSERT INTO login_profiles(account_id, user_name, password_hash, password_reset_required, "
           "mfa_bind_required, created_at, updated_at, password_changed_at, password_history) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
           p.account_id, p.user_name, hash, p.password_reset_required, p.mfa_bind_required, p.created_at,
           p.created_at, p.created_at, vetted->history);
    // A new generation even for the same password: a session of an earlier profile stays ended.
    p.generation = bump_user_login_generation(db, account_id, user);
    return p;
  });
}

Result<LoginProfile> IamService::get_login_profile(std::string_view account_id, std::string_view user) {
  return guarded([&]() -> Result<LoginProfile> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    if (!user_exists(db, account_id, user)) return no_user(user);
    auto q = db.query(
        "SELECT account_id, user_name, password_reset_required, mfa_bind_required, created_at FROM login_profiles "
        "WHERE account_id = ? AND user_name = ?",
        account_id, user);
    if (!q.step())
      return err::not_exist("EntityNotExist.User.LoginProfile",
                            "The user \"" + std::string(user) + "\" has no login profile (console access).");
    LoginProfile p = read_profile(q);
    p.generation = user_login_generation(db, account_id, user);
    return p;
  });
}

Result<LoginProfile> IamService::update_login_profile(std::string_view account_id, std::string_view user,
                                                      std::optional<std::string> password,
                                                      std::optional<bool> reset_required,
                                                      std::optional<bool> mfa_bind_required) {
  std::optional<std::string> hash, history;
  if (password) {
    auto vetted = vet_user_password(account_id, user, *password);
    if (!vetted) return vetted.error();
    hash = vetted->hash;
    history = vetted->history;
  }
  auto cur = get_login_profile(account_id, user);
  if (!cur) return cur.error();
  if (password) user_login_cleared(account_id, user);  // MaxLoginAttemps: a reset unlocks
  return write_tx(account_id, [&](store::Db& db) -> Result<LoginProfile> {
    LoginProfile p = *cur;
    if (reset_required) p.password_reset_required = *reset_required;
    if (mfa_bind_required) p.mfa_bind_required = *mfa_bind_required;
    const int64_t t = now();
    int n = db.run("UPDATE login_profiles SET password_hash = COALESCE(?, password_hash), password_reset_required = ?, "
                   "mfa_bind_required = ?, updated_at = ?, password_history = COALESCE(?, password_history), "
                   "password_changed_at = CASE WHEN ? = 1 THEN ? ELSE password_changed_at END "
                   "WHERE account_id = ? AND user_name = ?",
                   hash, p.password_reset_required, p.mfa_bind_required, t, history, int64_t{hash ? 1 : 0}, t,
                   account_id, user);
    if (n == 0)
      return err::not_exist("EntityNotExist.User.LoginProfile",
                            "The user \"" + std::string(user) + "\" has no login profile (console access).");
    // Every update ends the user's console sessions (a reset, or PasswordResetRequired set);
    // the caller that changed its own password moves its session to the new generation.
    p.generation = bump_user_login_generation(db, account_id, user);
    return p;
  });
}

Status IamService::delete_login_profile(std::string_view account_id, std::string_view user) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (!user_exists(db, account_id, user)) return no_user(user);
    if (db.run("DELETE FROM login_profiles WHERE account_id = ? AND user_name = ?", account_id, user) == 0)
      return err::not_exist("EntityNotExist.User.LoginProfile",
                            "The user \"" + std::string(user) + "\" has no login profile to delete.");
    bump_user_login_generation(db, account_id, user);
    return {};
  });
}

}  // namespace sluice::iam
