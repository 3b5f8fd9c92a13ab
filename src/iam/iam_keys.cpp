// Access keys: creation (secret shown once), status, deletion, and resolution
// of any key id (including STS keys) for signature verification.
#include <mutex>

#include "iam/iam_service.hpp"
#include "iam/internal.hpp"
#include "store/store.hpp"

namespace sluice::iam {

using namespace detail;

namespace {
// The SQL fragment that selects the owner: a user, or the root account (NULL).
bool owner_exists(store::Db& db, std::string_view acct, const std::optional<std::string>& user) {
  if (user) return db.query("SELECT 1 FROM users WHERE account_id = ? AND name = ?", acct, *user).step();
  return db.query("SELECT 1 FROM accounts WHERE id = ?", acct).step();
}
Error no_owner(std::string_view acct, const std::optional<std::string>& user) {
  if (user)
    return err::not_exist("EntityNotExist.User", "The user \"" + *user + "\" does not exist in this account.");
  return err::not_exist("EntityNotExist.Account", "The account " + std::string(acct) + " does not exist.");
}
Error no_key(std::string_view id) {
  return err::not_exist("EntityNotExist.User.AccessKey",
                        "The access key \"" + std::string(id) + "\" does not exist for this user.");
}
}  // namespace

Result<NewAccessKey> IamService::create_access_key(std::string_view account_id, std::optional<std::string> user) {
  return write_tx(account_id, [&](store::Db& db) -> Result<NewAccessKey> {
    if (!owner_exists(db, account_id, user)) return no_owner(account_id, user);
    auto c = user ? db.query("SELECT COUNT(*) FROM access_keys WHERE account_id = ? AND user_name = ?", account_id, *user)
                  : db.query("SELECT COUNT(*) FROM access_keys WHERE account_id = ? AND user_name IS NULL", account_id);
    c.step();
    if (static_cast<size_t>(c.int64(0)) >= limits_.access_keys_per_user)
      return err::limit("LimitExceeded.User.AccessKey",
                        (user ? "The user \"" + *user + "\"" : std::string("The root account")) + " already has " +
                            std::to_string(c.int64(0)) +
                            " access keys, the maximum. Delete an unused key before creating another.");
    NewAccessKey k;
    do {
      k.key.id = "LTAI" + store::random_string(20, store::kAlnum);
    } while (db.query("SELECT 1 FROM access_keys WHERE id = ?", k.key.id).step());
    k.secret = store::random_string(30, store::kAlnum);
    k.key.account_id = account_id;
    k.key.user_name = user;
    k.key.status = KeyStatus::Active;
    k.key.created_at = now();
    db.run("INSERT INTO access_keys(id, account_id, user_name, secret_enc, status, created_at) VALUES (?, ?, ?, ?, ?, ?)",
           k.key.id, k.key.account_id, k.key.user_name, store::Blob{store_->box().seal(k.secret, k.key.id)}, "Active",
           k.key.created_at);
    return k;
  });
}

Result<std::vector<AccessKey>> IamService::list_access_keys(std::string_view account_id,
                                                            std::optional<std::string> user) {
  return guarded([&]() -> Result<std::vector<AccessKey>> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    if (!owner_exists(db, account_id, user)) return no_owner(account_id, user);
    auto q = user ? db.query("SELECT id, status, created_at FROM access_keys WHERE account_id = ? AND user_name = ? "
                             "ORDER BY created_at, id",
                             account_id, *user)
                  : db.query("SELECT id, status, created_at FROM access_keys WHERE account_id = ? AND user_name IS "
                             "NULL ORDER BY created_at, id",
                             account_id);
    std::vector<AccessKey> out;
    while (q.step())
      out.push_back(AccessKey{q.text(0), std::string(account_id), user, key_status_from(q.text(1)), q.int64(2)});
    return out;
  });
}

Status IamService::update_access_key(std::string_view account_id, std::optional<std::string> user,
                                     std::string_view key_id, KeyStatus status) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (!owner_exists(db, account_id, user)) return no_owner(account_id, user);
    int n = user ? db.run("UPDATE access_keys SET status = ? WHERE id = ? AND account_id = ? AND user_name = ?",
                          to_string(status), key_id, account_id, *user)
                 : db.run("UPDATE access_keys SET status = ? WHERE id = ? AND account_id = ? AND user_name IS NULL",
                          to_string(status), key_id, account_id);
    if (n == 0) return no_key(key_id);
    return {};
  });
}

Status IamService::delete_access_key(std::string_view account_id, std::optional<std::string> user,
                                     std::string_view key_id) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (!owner_exists(db, account_id, user)) return no_owner(account_id, user);
    int n = user ? db.run("DELETE FROM access_keys WHERE id = ? AND account_id = ? AND user_name = ?", key_id,
                          account_id, *user)
                 : db.run("DELETE FROM access_keys WHERE id = ? AND account_id = ? AND user_name IS NULL", key_id,
                          account_id);
    if (n == 0) return no_key(key_id);
    return {};
  });
}

Result<AccessKeyInfo> IamService::lookup_access_key(std::string_view key_id) {
  const uint64_t gen = generation();
  {
    std::shared_lock lk(cache_mu_);
    auto it = key_cache_.find(key_id);
    if (it != key_cache_.end() &&
        (it->second.generation == gen ||
         account_generation_locked(it->second.info.principal.account_id) <= it->second.generation)) {
      AccessKeyInfo info = it->second.info;
      if (info.expires_at && now() >= info.expires_at) info.status = KeyStatus::Inactive;
      return info;
    }
  }
  auto r = guarded([&]() -> Result<AccessKeyInfo> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    AccessKeyInfo info;
    if (key_id.starts_with("STS.")) {
      auto q = db.query("SELECT account_id, role_name, session_name, secret_enc, token_enc, expires_at, "
                        "COALESCE(source_identity, '') FROM sts_sessions WHERE access_key_id = ?",
                        key_id);
      if (!q.step())
        return err::not_exist("EntityNotExist.AccessKey", "The access key \"" + std::string(key_id) + "\" does not exist.");
      info.principal = Principal::role_session(q.text(0), q.text(1), q.text(2), std::string(key_id));
      auto secret = store_->box().open(q.blob(3), key_id);
      auto token = store_->box().open(q.blob(4), key_id);
      if (!secret || !token) return err::internal("the secret of " + std::string(key_id) + " cannot be decrypted");
      info.secret = std::move(*secret);
      info.security_token = std::move(*token);
      info.expires_at = q.int64(5);
      info.principal.source_identity = q.text(6);
      info.status = KeyStatus::Active;
      return info;
    }
    auto q = db.query("SELECT account_id, user_name, secret_enc, status FROM access_keys WHERE id = ?", key_id);
    if (!q.step())
      return err::not_exist("EntityNotExist.AccessKey", "The access key \"" + std::string(key_id) + "\" does not exist.");
    info.principal = q.is_null(1) ? Principal::root(q.text(0)) : Principal::user(q.text(0), q.text(1));
    info.principal.access_key_id = key_id;
    auto secret = store_->box().open(q.blob(2), key_id);
    if (!secret) return err::internal("the secret of " + std::string(key_id) + " cannot be decrypted");
    info.secret = std::move(*secret);
    info.status = key_status_from(q.text(3));
    return info;
  });
  if (!r) return r;
  {
    std::unique_lock lk(cache_mu_);
    if (key_cache_.size() > 100000) key_cache_.clear();  // bound memory under key-id scanning
    key_cache_.insert_or_assign(std::string(key_id), KeyCacheEntry{gen, *r});
  }
  if (r->expires_at && now() >= r->expires_at) r->status = KeyStatus::Inactive;
  return r;
}

}  // namespace sluice::iam
