// The root account's console password and its "must change at next sign-in"
// flag. The flag lives in the meta table (key root_password_reset:<account>):
// only the bootstrap account sets it, so it needs no column of its own.
#include <mutex>

#include "iam/iam_service.hpp"
#include "iam/internal.hpp"
#include "store/password.hpp"
#include "store/store.hpp"

namespace sluice::iam {

using namespace detail;

namespace {
std::string flag_key(std::string_view account_id) { return "root_password_reset:" + std::string(account_id); }
}  // namespace

Status IamService::set_root_password(std::string_view account_id, std::string_view new_password) {
  if (auto e = check_length("Password", new_password, 8, 128)) return *e;
  std::string hash = store::hash_password(new_password);  // slow: outside the lock
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (db.run("UPDATE accounts SET password_hash = ? WHERE id = ?", hash, account_id) == 0)
      return err::not_exist("EntityNotExist.Account", "The account " + std::string(account_id) + " does not exist.");
    db.run("DELETE FROM meta WHERE key = ?", flag_key(account_id));
    return {};
  });
}

Status IamService::set_root_password_change_required(std::string_view account_id, bool required) {
  return guarded([&]() -> Status {
    std::lock_guard lk(store_->mutex());
    if (required)
      store_->db().run("INSERT OR REPLACE INTO meta(key, value) VALUES (?, '1')", flag_key(account_id));
    else
      store_->db().run("DELETE FROM meta WHERE key = ?", flag_key(account_id));
    return {};
  });
}

Result<bool> IamService::root_password_change_required(std::string_view account_id) {
  return guarded([&]() -> Result<bool> {
    std::lock_guard lk(store_->mutex());
    return store_->db().query("SELECT 1 FROM meta WHERE key = ?", flag_key(account_id)).step();
  });
}

std::optional<std::string> IamService::account_of_login(std::string_view login) {
  auto r = guarded([&]() -> Result<std::string> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    if (auto q = db.query("SELECT id FROM accounts WHERE login_name = ? OR alias = ?", login, login); q.step())
      return q.text(0);
    if (auto at = login.rfind('@'); at != std::string_view::npos)
      if (auto q = db.query("SELECT id FROM accounts WHERE alias = ?", login.substr(at + 1)); q.step()) return q.text(0);
    return err::not_exist("EntityNotExist.Account", "no such login");
  });
  if (!r) return std::nullopt;
  return *r;
}

}  // namespace sluice::iam
