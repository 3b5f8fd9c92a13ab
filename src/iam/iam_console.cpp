// Console sign-in state: the root account's console password and its "must
// change at next sign-in" flag, the sign-in itself, and the login generations
// console sessions are bound to. The flag and the generations live in the meta
// table (keys root_password_reset:<account>, login_generation:root:<account>,
// login_generation:user:<user id>), so they need no columns of their own; a
// missing generation is 0.
#include <mutex>

#include "iam/iam_service.hpp"
#include "iam/login_network.hpp"
#include "iam/internal.hpp"
#include "store/password.hpp"
#include "store/store.hpp"

namespace sluice::iam {

using namespace detail;

namespace {
std::string flag_key(std::string_view account_id) { return "root_password_reset:" + std::string(account_id); }
std::string root_generation_key(std::string_view account_id) {
  return "login_generation:root:" + std::string(account_id);
}
std::string user_generation_key(std::string_view user_id) { return "login_generation:user:" + std::string(user_id); }

int64_t bump_generation(store::Db& db, const std::string& key) {
  // Text arithmetic, so that the one statement serves both backends (meta.value
  // is TEXT on PostgreSQL; SQLite reads the text back as a number alike).
  db.run("INSERT INTO meta(key, value) VALUES (?, '1') "
         "ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT)",
         key);
  auto q = db.query("SELECT value FROM meta WHERE key = ?", key);
  q.step();
  return q.int64(0);
}
int64_t read_generation(store::Db& db, const std::string& key) {
  auto q = db.query("SELECT value FROM meta WHERE key = ?", key);
  return q.step() ? q.int64(0) : 0;
}
std::optional<std::string> user_id_of(store::Db& db, std::string_view account_id, std::string_view user_name) {
  auto q = db.query("SELECT user_id FROM users WHERE account_id = ? AND name = ?", account_id, user_name);
  if (!q.step()) return std::nullopt;
  return q.text(0);
}

Error bad_login() {
  return err::invalid("InvalidLogin",
                      "The login name or password is incorrect. Check both (RAM users sign in as user@<account alias>).");
}

// A password check against a hash nobody has: an unknown login costs the same time as a known one.
void dummy_password_check(std::string_view password) {
  static const std::string dummy = store::hash_password(store::random_string(16, store::kAlnum));
  store::verify_password(dummy, password);
}
}  // namespace

namespace detail {
int64_t bump_user_login_generation(store::Db& db, std::string_view account_id, std::string_view user_name) {
  auto id = user_id_of(db, account_id, user_name);
  return id ? bump_generation(db, user_generation_key(*id)) : 0;
}
int64_t user_login_generation(store::Db& db, std::string_view account_id, std::string_view user_name) {
  auto id = user_id_of(db, account_id, user_name);
  return id ? read_generation(db, user_generation_key(*id)) : 0;
}
void forget_user_login_generation(store::Db& db, std::string_view account_id, std::string_view user_name) {
  if (auto id = user_id_of(db, account_id, user_name)) db.run("DELETE FROM meta WHERE key = ?", user_generation_key(*id));
}
}  // namespace detail

Result<int64_t> IamService::set_root_password(std::string_view account_id, std::string_view new_password) {
  if (auto e = check_length("Password", new_password, 8, 128)) return *e;
  std::string hash = store::hash_password(new_password);  // slow: outside the lock
  return write_tx(account_id, [&](store::Db& db) -> Result<int64_t> {
    if (db.run("UPDATE accounts SET password_hash = ? WHERE id = ?", hash, account_id) == 0)
      return err::not_exist("EntityNotExist.Account", "The account " + std::string(account_id) + " does not exist.");
    db.run("DELETE FROM meta WHERE key = ?", flag_key(account_id));
    return bump_generation(db, root_generation_key(account_id));
  });
}

Status IamService::set_root_password_change_required(std::string_view account_id, bool required) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (required)
      db.run("INSERT INTO meta(key, value) VALUES (?, '1') ON CONFLICT(key) DO UPDATE SET value = excluded.value",
             flag_key(account_id));
    else
      db.run("DELETE FROM meta WHERE key = ?", flag_key(account_id));
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
      if (auto q = db.query("SELECT id FROM accounts WHERE alias = ? OR id = ?", account_suffix(login.substr(at + 1)),
                            account_suffix(login.substr(at + 1)));
          q.step())
        return q.text(0);
    return err::not_exist("EntityNotExist.Account", "no such login");
  });
  if (!r) return std::nullopt;
  return *r;
}

Result<IamService::ConsoleSignIn> IamService::console_sign_in(std::string_view login, std::string_view password) {
  return console_sign_in(login, password, std::nullopt);
}

Result<IamService::ConsoleSignIn> IamService::console_sign_in(std::string_view login, std::string_view password,
                                                              std::optional<std::string> mfa_code,
                                                              std::string_view source, const MfaTicket* ticket) {
  struct Row {
    ConsoleSignIn who;
    std::string hash;
    int64_t password_changed_at = 0;
  };
  // Looked up (with the generation) under the lock; the slow hash check runs outside it.
  auto find_user = [&]() -> Result<Row> {
    const auto at = login.rfind('@');
    if (at == std::string_view::npos) return bad_login();
    // <user>@<alias>.onaliyun.com, <user>@<alias> or the account-id forms.
    const std::string_view user = login.substr(0, at);
    const std::string alias = account_suffix(login.substr(at + 1));
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    auto q = db.query(
        "SELECT a.id, u.name, u.user_id, u.display_name, l.password_hash, l.password_reset_required, "
        "CASE WHEN l.password_changed_at > 0 THEN l.password_changed_at ELSE l.updated_at END, l.mfa_bind_required "
        "FROM accounts a "
        "JOIN users u ON u.account_id = a.id JOIN login_profiles l ON l.account_id = a.id AND l.user_name = u.name "
        "WHERE (a.alias = ? OR a.id = ?) AND u.name = ?",
        alias, alias, user);
    if (!q.step()) return bad_login();
    Row r;
    r.who.principal = Principal::user(q.text(0), q.text(1));
    r.who.user_id = q.text(2);
    r.who.display_name = q.text(3).empty() ? q.text(1) : q.text(3);
    r.hash = q.text(4);
    r.who.must_change_password = q.int64(5) != 0;
    r.password_changed_at = q.int64(6);
    r.who.must_bind_mfa = q.int64(7) != 0;  // until a device is bound (checked below)
    r.who.generation = read_generation(db, user_generation_key(r.who.user_id));
    return r;
  };
  auto find_root = [&]() -> Result<Row> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    auto q = db.query("SELECT id, login_name, password_hash FROM accounts WHERE login_name = ? OR alias = ?", login, login);
    if (!q.step()) return bad_login();
    Row r;
    r.who.principal = Principal::root(q.text(0));
    r.who.display_name = q.text(1);
    r.hash = q.text(2);
    r.who.must_change_password = db.query("SELECT 1 FROM meta WHERE key = ?", flag_key(r.who.principal.account_id)).step();
    r.who.generation = read_generation(db, root_generation_key(r.who.principal.account_id));
    return r;
  };
  // A RAM user first, then the root (whose login name may contain '@' too). Each
  // candidate costs one hash check, found or not, so the time taken tells nothing.
  for (int step = 0; step < 2; ++step) {
    if (step == 0 && login.find('@') == std::string_view::npos) continue;
    auto row = guarded([&]() { return step == 0 ? find_user() : find_root(); });
    if (!row) {
      if (row.error().http_status >= 500) return row.error();
      dummy_password_check(password);
      continue;
    }
    if (step == 1) {
      if (store::verify_password(row->hash, password)) return std::move(row->who);
      continue;
    }
    const std::string acct = row->who.principal.account_id, user = row->who.principal.name;
    if (user_login_locked(acct, user, source)) {
      dummy_password_check(password);  // the same time as any other attempt
      return Error{"LoginLocked", 429,
                   "Too many wrong passwords or MFA codes for this user within the hour (the password policy's "
                   "MaxLoginAttemps); try again later, or ask an administrator to reset the password."};
    }
    if (!store::verify_password(row->hash, password)) {
      user_login_failed(acct, user, source);
      continue;
    }
    if (auto s = verify_user_second_factor(acct, user, mfa_code, source, ticket, row->who.user_id,
                                           &row->who.mfa_serial);
        !s)
      return s.error();
    // The security preference (issue 21): the networks RAM users sign in from,
    // checked once the password and code are proven (so that it tells nothing
    // to someone without them), and how long their console sessions last.
    auto pref = security_preference(acct);
    if (!pref) return pref.error();
    if (!login_network_allows(pref->login_network_masks, source))
      return Error{"Forbidden.LoginNetworkMask", 403,
                   "Console sign-in of this account's RAM users is allowed only from the networks of its security "
                   "preference (LoginNetworkMasks); this request came from " +
                       (source.empty() ? std::string("an unknown address") : std::string(source)) + "."};
    row->who.session_seconds = pref->login_session_duration * 3600;
    if (row->who.must_bind_mfa) {
      auto device = user_mfa_device(acct, user);
      if (!device && device.error().http_status >= 500) return device.error();
      row->who.must_bind_mfa = !device.ok();
    }
    auto policy = password_policy(acct);
    if (!policy) return policy.error();
    if (policy->max_password_age > 0 && now() - row->password_changed_at > policy->max_password_age * 86400) {
      if (policy->hard_expiry)
        return Error{"PasswordExpired", 403,
                     "The password is older than the password policy allows (MaxPasswordAge, HardExpiry); ask an "
                     "administrator to reset it."};
      row->who.must_change_password = true;
    }
    user_login_cleared(acct, user);
    return std::move(row->who);
  }
  return bad_login();
}

Status IamService::verify_user_second_factor(std::string_view acct, std::string_view user,
                                             const std::optional<std::string>& mfa_code, std::string_view source,
                                             const MfaTicket* ticket, std::string_view user_id, std::string* serial) {
  auto device = user_mfa_device(acct, user);
  if (!device) {
    if (device.error().http_status >= 500) return device.error();
    return {};  // no device bound: the password is all
  }
  if (!mfa_code || mfa_code->empty()) {
    // A saved check of this user (by id: not a same-named successor) and this
    // very device, while the account's preference keeps saving them.
    if (ticket && !user_id.empty() && ticket->user_id == user_id && ticket->serial == device->serial_number) {
      auto pref = security_preference(acct);
      if (!pref) return pref.error();
      if (pref->enable_save_mfa_ticket) return {};
    }
    return Error{"MFARequired", 401, "This user has an MFA device: enter the code it shows."};
  }
  if (auto s = verify_mfa_code(acct, user, *mfa_code); !s) {
    if (s.error().http_status >= 500) return s.error();
    user_login_failed(acct, user, source);
    return s.error();
  }
  if (serial) *serial = device->serial_number;
  return {};
}

Result<IamService::ConsoleStanding> IamService::console_standing(std::string_view account_id,
                                                                 std::string_view user_id) {
  return guarded([&]() -> Result<ConsoleStanding> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    ConsoleStanding st;
    if (user_id.empty()) {
      auto q = db.query("SELECT login_name FROM accounts WHERE id = ?", account_id);
      if (!q.step())
        return err::not_exist("EntityNotExist.Account", "The account " + std::string(account_id) + " does not exist.");
      st.name = st.display_name = q.text(0);
      st.generation = read_generation(db, root_generation_key(account_id));
      return st;
    }
    auto q = db.query(
        "SELECT u.name, u.display_name, l.user_name IS NOT NULL FROM users u LEFT JOIN login_profiles l "
        "ON l.account_id = u.account_id AND l.user_name = u.name WHERE u.account_id = ? AND u.user_id = ?",
        account_id, user_id);
    if (!q.step()) return err::not_exist("EntityNotExist.User", "The user no longer exists.");
    if (q.int64(2) == 0)
      return err::not_exist("EntityNotExist.User.LoginProfile", "The user no longer has a login profile.");
    st.name = q.text(0);
    st.display_name = q.text(1).empty() ? st.name : q.text(1);
    st.generation = read_generation(db, user_generation_key(user_id));
    return st;
  });
}

std::string IamService::console_login_key(std::string_view login) {
  auto key = guarded([&]() -> Result<std::string> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    if (auto q = db.query("SELECT id FROM accounts WHERE login_name = ? OR alias = ?", login, login); q.step())
      return "root:" + q.text(0);
    if (auto at = login.rfind('@'); at != std::string_view::npos)
      if (auto q = db.query("SELECT id FROM accounts WHERE alias = ? OR id = ?", account_suffix(login.substr(at + 1)),
                            account_suffix(login.substr(at + 1)));
          q.step())
        return "user:" + q.text(0) + ":" + std::string(login.substr(0, at));
    return "login:" + std::string(login);
  });
  return key ? *key : "login:" + std::string(login);
}

}  // namespace sluice::iam
