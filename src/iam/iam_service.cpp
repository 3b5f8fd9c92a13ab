#include "iam/iam_service.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <mutex>

#include "iam/internal.hpp"
#include "iam/schema.hpp"
#include "store/password.hpp"
#include "store/store.hpp"

namespace sluice::iam {

using namespace detail;

const char* to_string(KeyStatus s) { return s == KeyStatus::Active ? "Active" : "Inactive"; }
const char* to_string(PolicyType t) { return t == PolicyType::System ? "System" : "Custom"; }
const char* to_string(PrincipalType t) {
  switch (t) {
    case PrincipalType::User: return "User";
    case PrincipalType::Group: return "Group";
    case PrincipalType::Role: return "Role";
  }
  return "User";
}

Principal Principal::root(std::string account_id) {
  Principal p;
  p.kind = Kind::Root;
  p.key = "R:" + account_id;
  p.account_id = std::move(account_id);
  return p;
}
Principal Principal::user(std::string account_id, std::string name) {
  Principal p;
  p.kind = Kind::User;
  p.key = "U:" + account_id + ":" + name;
  p.account_id = std::move(account_id);
  p.name = std::move(name);
  return p;
}
Principal Principal::role_session(std::string account_id, std::string role, std::string session,
                                  std::string sts_access_key_id) {
  Principal p;
  p.kind = Kind::RoleSession;
  p.key = "S:" + sts_access_key_id;
  p.account_id = std::move(account_id);
  p.name = std::move(role);
  p.session_name = std::move(session);
  p.access_key_id = std::move(sts_access_key_id);
  return p;
}
std::string Principal::arn() const {
  std::string base = "acs:ram::" + account_id + ":";
  switch (kind) {
    case Kind::Root: return base + "root";
    case Kind::User: return base + "user/" + name;
    case Kind::RoleSession: return base + "assumed-role/" + detail::lower(name) + "/" + session_name;
  }
  return base;
}

namespace detail {

std::optional<Error> check_length(std::string_view field, std::string_view s, size_t min, size_t max) {
  if (s.size() < min || s.size() > max) {
    // Never echo a password: error messages reach logs and the audit log.
    const bool secret = field.find("Password") != std::string_view::npos;
    return err::invalid("InvalidParameter." + std::string(field) + ".Length",
                        "The " + std::string(field) + " must be " + std::to_string(min) + " to " +
                            std::to_string(max) + " characters long; " +
                            (secret ? std::string("the one given") : "\"" + std::string(s.substr(0, 80)) + "\"") +
                            " has " + std::to_string(s.size()) + ".");
  }
  return std::nullopt;
}

std::optional<Error> check_name(std::string_view field, std::string_view s, size_t min, size_t max,
                                std::string_view extra) {
  if (auto e = check_length(field, s, min, max)) return e;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos) continue;
    std::string allowed = "letters, digits";
    for (char x : extra) allowed += std::string(", '") + x + "'";
    return err::invalid("InvalidParameter." + std::string(field) + ".InvalidChars",
                        "The " + std::string(field) + " \"" + std::string(s.substr(0, 80)) +
                            "\" contains an invalid character; use only " + allowed + ".");
  }
  return std::nullopt;
}

std::string numeric_id(size_t digits) {
  std::string s = store::random_string(digits, store::kDigits);
  if (s[0] == '0') s[0] = '1' + static_cast<char>(static_cast<unsigned char>(store::random_bytes(1)[0]) % 9);
  return s;
}

std::string key_for(std::string_view a, std::string_view b, std::string_view c) {
  std::string k;
  k.reserve(a.size() + b.size() + c.size() + 2);
  k.append(a).push_back('\x1f');
  k.append(b).push_back('\x1f');
  k.append(c);
  return k;
}

PrincipalType principal_type_from(std::string_view s, bool* ok) {
  *ok = true;
  if (s == "User") return PrincipalType::User;
  if (s == "Group") return PrincipalType::Group;
  if (s == "Role") return PrincipalType::Role;
  *ok = false;
  return PrincipalType::User;
}
PolicyType policy_type_from(std::string_view s, bool* ok) {
  *ok = true;
  if (s == "System") return PolicyType::System;
  if (s == "Custom") return PolicyType::Custom;
  *ok = false;
  return PolicyType::Custom;
}
KeyStatus key_status_from(std::string_view s) { return s == "Active" ? KeyStatus::Active : KeyStatus::Inactive; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace detail

namespace {
int64_t system_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Account read_account(store::Stmt& q) {
  Account a;
  a.id = q.text(0);
  a.login_name = q.text(1);
  a.alias = q.text(2);
  a.created_at = q.int64(3);
  a.mq_activated = !q.is_null(4);
  return a;
}
constexpr std::string_view kAccountCols =
    "SELECT a.id, a.login_name, a.alias, a.created_at, s.activated_at FROM accounts a "
    "LEFT JOIN service_activations s ON s.account_id = a.id AND s.service = 'mq' ";

Error bad_login() {
  return err::invalid("InvalidLogin",
                      "The login name or password is incorrect. Check both (RAM users sign in as user@<account alias>).");
}
}  // namespace

IamService::IamService(std::shared_ptr<store::Store> store, Limits limits, Clock clock)
    : store_(std::move(store)), limits_(limits), clock_(clock ? clock : &system_now) {
  std::lock_guard lk(store_->mutex());
  store::migrate(store_->db(), schema());  // throws DbError, also for a schema newer than this binary
  changes_ = store_->changes("iam");  // before the first load: a change made in between is reported
  load_resource_map_locked();
}

IamService::~IamService() {
  try {
    flush_key_usage();  // the last minute of key use, not lost at shutdown
  } catch (...) {
  }
}

int64_t IamService::now() const { return clock_(); }

bool IamService::changes_due() { return changes_->due(); }

void IamService::bump(std::string_view account_id) {
  // The account's mark is written before the global counter moves, under the
  // same lock, so whoever sees the new generation also sees the mark.
  std::unique_lock cl(cache_mu_);
  uint64_t g = generation_.load(std::memory_order_relaxed) + 1;
  auto it = account_gen_.find(account_id);
  if (it == account_gen_.end())
    account_gen_.emplace(std::string(account_id), g);
  else
    it->second = g;
  generation_.store(g, std::memory_order_release);
}

void IamService::bump_all() {
  std::unique_lock cl(cache_mu_);
  uint64_t g = generation_.load(std::memory_order_relaxed) + 1;
  floor_gen_ = g;
  generation_.store(g, std::memory_order_release);
}

uint64_t IamService::account_generation(std::string_view account_id) const {
  std::shared_lock cl(cache_mu_);
  return account_generation_locked(account_id);
}

uint64_t IamService::account_generation_locked(std::string_view account_id) const {
  auto it = account_gen_.find(account_id);
  return std::max(floor_gen_, it == account_gen_.end() ? uint64_t{0} : it->second);
}

void IamService::load_resource_map_locked() {
  auto q = store_->db().query("SELECT account_id, resource_type, resource_id, resource_group_id FROM resources");
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> m;
  while (q.step()) m[key_for(q.text(0), q.text(1), q.text(2))] = q.text(3);
  std::unique_lock cl(cache_mu_);
  resource_map_.swap(m);
}

void IamService::poll_external_changes() {
  // Another connection committed to identity tables. PostgreSQL's feed names
  // the account (its NOTIFY payload): only that account's cached state is
  // dropped and only its generation moves, so the decisions cached for every
  // other account stay valid. SQLite's feed (and a PostgreSQL listener that
  // lost its connection, or the backstop) cannot say whose: everything.
  changes_->poll([this](const store::Change& c) {
    if (c.account_id.empty()) {
      load_resource_map_locked();
      {
        std::unique_lock cl(cache_mu_);
        doc_cache_.clear();
      }
      bump_all();
      return;
    }
    reload_account_locked(c.account_id);
    bump(c.account_id);
  });
}

void IamService::reload_account_locked(std::string_view account_id) {
  std::string prefix(account_id);
  prefix.push_back('\x1f');  // key_for(account, ...) starts so
  auto q = store_->db().query(
      "SELECT account_id, resource_type, resource_id, resource_group_id FROM resources WHERE account_id = ?",
      account_id);
  std::vector<std::pair<std::string, std::string>> rows;
  while (q.step()) rows.emplace_back(key_for(q.text(0), q.text(1), q.text(2)), q.text(3));
  std::unique_lock cl(cache_mu_);
  std::erase_if(resource_map_, [&](const auto& kv) { return kv.first.starts_with(prefix); });
  for (auto& r : rows) resource_map_.insert_or_assign(std::move(r.first), std::move(r.second));
  std::erase_if(doc_cache_, [&](const auto& kv) { return kv.first.starts_with(prefix); });
}

Status IamService::account_exists(std::string_view account_id) {
  auto q = store_->db().query("SELECT 1 FROM accounts WHERE id = ?", account_id);
  if (!q.step())
    return err::not_exist("EntityNotExist.Account", "The account " + std::string(account_id) +
                                                        " does not exist. Create it with `sluice admin account create`.");
  return {};
}

Result<Account> IamService::create_account(std::string_view login_name, std::string_view alias,
                                           std::string_view password) {
  if (auto e = check_name("LoginName", login_name, 1, 64, "._@-")) return *e;
  // No alias: the cloud's default, the account id (set below).
  if (auto e = alias.empty() ? std::nullopt : check_name("AccountAlias", alias, 3, 32, "-")) return *e;
  for (char c : alias)
    if (std::isupper(static_cast<unsigned char>(c)))
      return err::invalid("InvalidParameter.AccountAlias.InvalidChars",
                          "The account alias must be lowercase letters, digits and '-'.");
  if (auto e = check_length("Password", password, 8, 128)) return *e;
  std::string hash = store::hash_password(password);  // slow: outside the lock
  return guarded_tx([&]() -> Result<Account> {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    IamTx tx(*this, {});
    if (db.query("SELECT 1 FROM accounts WHERE login_name = ?", login_name).step())
      return err::already_exists("EntityAlreadyExists.Account.LoginName",
                                 "An account with login name \"" + std::string(login_name) + "\" already exists.");
    if (!alias.empty() && db.query("SELECT 1 FROM accounts WHERE alias = ? OR id = ?", alias, alias).step())
      return err::already_exists("EntityAlreadyExists.Account.Alias",
                                 "The account alias \"" + std::string(alias) + "\" is taken; choose another.");
    Account a;
    do {
      a.id = numeric_id(16);
    } while (db.query("SELECT 1 FROM accounts WHERE id = ?", a.id).step());
    a.login_name = login_name;
    a.alias = alias.empty() ? a.id : std::string(alias);
    a.created_at = now();
    tx.touched(a.id);
    db.run("INSERT INTO accounts(id, login_name, alias, password_hash, created_at) VALUES (?, ?, ?, ?, ?)", a.id,
           a.login_name, a.alias, hash, a.created_at);
    std::string rg = "rg-" + store::random_string(15, store::kLowerAlnum);
    db.run("INSERT INTO resource_groups(id, account_id, name, display_name, is_default, created_at) "
           "VALUES (?, ?, 'default', 'Default Resource Group', 1, ?)",
           rg, a.id, a.created_at);
    tx.commit();
    bump(a.id);
    return a;
  });
}

Result<Account> IamService::get_account(std::string_view account_id) {
  return guarded([&]() -> Result<Account> {
    std::lock_guard lk(store_->mutex());
    auto q = store_->db().query(std::string(kAccountCols) + "WHERE a.id = ?", account_id);
    if (!q.step())
      return err::not_exist("EntityNotExist.Account", "The account " + std::string(account_id) + " does not exist.");
    return read_account(q);
  });
}

Result<std::vector<Account>> IamService::list_accounts() {
  return guarded([&]() -> Result<std::vector<Account>> {
    std::lock_guard lk(store_->mutex());
    auto q = store_->db().query(std::string(kAccountCols) + "ORDER BY a.created_at, a.id");
    std::vector<Account> out;
    while (q.step()) out.push_back(read_account(q));
    return out;
  });
}

Result<Account> IamService::verify_root_login(std::string_view login, std::string_view password) {
  auto row = guarded([&]() -> Result<std::pair<Account, std::string>> {
    std::lock_guard lk(store_->mutex());
    auto q = store_->db().query(std::string(kAccountCols) + "WHERE a.login_name = ? OR a.alias = ?", login, login);
    if (!q.step()) return bad_login();
    Account a = read_account(q);
    auto h = store_->db().query("SELECT password_hash FROM accounts WHERE id = ?", a.id);
    h.step();
    return std::make_pair(a, h.text(0));
  });
  if (!row) {
    // Same work as a real check, so response time does not reveal which logins exist.
    static const std::string dummy = store::hash_password(store::random_string(16, store::kAlnum));
    store::verify_password(dummy, password);
    return row.error();
  }
  if (!store::verify_password(row->second, password)) return bad_login();
  return row->first;
}

Result<User> IamService::verify_user_login(std::string_view user_at_alias, std::string_view password) {
  auto at = user_at_alias.rfind('@');
  if (at == std::string_view::npos) return bad_login();
  std::string_view user = user_at_alias.substr(0, at);
  const std::string alias = account_suffix(user_at_alias.substr(at + 1));
  auto row = guarded([&]() -> Result<std::pair<std::string, std::string>> {
    std::lock_guard lk(store_->mutex());
    auto q = store_->db().query(
        "SELECT a.id, l.password_hash FROM accounts a JOIN login_profiles l ON l.account_id = a.id "
        "WHERE (a.alias = ? OR a.id = ?) AND l.user_name = ?",
        alias, alias, user);
    if (!q.step()) return bad_login();
    return std::make_pair(q.text(0), q.text(1));
  });
  if (!row) return row.error();
  if (!store::verify_password(row->second, password)) return bad_login();
  return get_user(row->first, user);
}

Status IamService::activate_service(std::string_view account_id, std::string_view service) {
  if (service != "mq" && service != "ons")
    return err::invalid("InvalidParameter.Service",
                        "Unknown service \"" + std::string(service) + "\"; the service to activate is \"mq\".");
  return guarded_tx([&]() -> Status {
    std::lock_guard lk(store_->mutex());
    auto& db = store_->db();
    IamTx tx(*this, account_id);
    if (auto s = account_exists(account_id); !s) return s;
    db.run("INSERT INTO service_activations(account_id, service, activated_at) VALUES (?, 'mq', ?) "
           "ON CONFLICT DO NOTHING",
           account_id, now());
    tx.commit();
    bump(account_id);
    return {};
  });
}

Result<bool> IamService::service_active(std::string_view account_id, std::string_view service) {
  return guarded([&]() -> Result<bool> {
    std::lock_guard lk(store_->mutex());
    if (auto s = account_exists(account_id); !s) return s.error();
    std::string svc = service == "ons" ? "mq" : std::string(service);
    return store_->db().query("SELECT 1 FROM service_activations WHERE account_id = ? AND service = ?", account_id, svc)
        .step();
  });
}

Result<AccountSummary> IamService::account_summary(std::string_view account_id) {
  return guarded([&]() -> Result<AccountSummary> {
    std::lock_guard lk(store_->mutex());
    if (auto s = account_exists(account_id); !s) return s.error();
    auto& db = store_->db();
    auto count = [&](const char* sql) {
      auto q = db.query(sql, account_id);
      q.step();
      return static_cast<size_t>(q.int64(0));
    };
    AccountSummary s;
    s.users = count("SELECT COUNT(*) FROM users WHERE account_id = ?");
    s.groups = count("SELECT COUNT(*) FROM groups WHERE account_id = ?");
    s.roles = count("SELECT COUNT(*) FROM roles WHERE account_id = ?");
    s.policies = count("SELECT COUNT(*) FROM policies WHERE account_id = ?");
    s.access_keys = count("SELECT COUNT(*) FROM access_keys WHERE account_id = ?");
    s.resource_groups = count("SELECT COUNT(*) FROM resource_groups WHERE account_id = ?");
    s.attached_system = count("SELECT COUNT(*) FROM attachments WHERE account_id = ? AND policy_type = 'System'");
    s.attached_custom = count("SELECT COUNT(*) FROM attachments WHERE account_id = ? AND policy_type = 'Custom'");
    s.quotas = limits_;
    return s;
  });
}

}  // namespace sluice::iam
