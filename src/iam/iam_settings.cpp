// The account's password policy and security preference (JSON rows of
// account_settings), the password checks every RAM user's console password
// goes through, a user's own password change, and MaxLoginAttemps.
#include <boost/json.hpp>
#include <mutex>

#include "iam/iam_service.hpp"
#include "iam/login_network.hpp"
#include "iam/internal.hpp"
#include "store/password.hpp"

namespace sluice::iam {

using namespace detail;
namespace json = boost::json;

namespace {
constexpr const char* kPasswordPolicy = "password_policy";
constexpr const char* kSecurityPreference = "security_preference";
constexpr size_t kHistoryKept = 24;  // PasswordReusePrevention's ceiling
}  // namespace

Result<std::string> IamService::setting(std::string_view account_id, std::string_view name) {
  return guarded([&]() -> Result<std::string> {
    std::lock_guard lk(store_->mutex());
    if (auto s = account_exists(account_id); !s) return s.error();
    auto q = store_->db().query("SELECT value FROM account_settings WHERE account_id = ? AND name = ?", account_id,
                                name);
    return q.step() ? q.text(0) : std::string();
  });
}

Status IamService::set_setting(std::string_view account_id, std::string_view name, const std::string& value) {
  return write_tx(account_id, [&](store::Db& db) -> Status {
    if (auto s = account_exists(account_id); !s) return s.error();
    db.run("INSERT INTO account_settings(account_id, name, value) VALUES (?, ?, ?) "
           "ON CONFLICT(account_id, name) DO UPDATE SET value = excluded.value",
           account_id, name, value);
    return {};
  });
}

Result<PasswordPolicy> IamService::password_policy(std::string_view account_id) {
  auto v = setting(account_id, kPasswordPolicy);
  if (!v) return v.error();
  return v->empty() ? PasswordPolicy{} : PasswordPolicy::from_json(*v);
}

Result<PasswordPolicy> IamService::set_password_policy(std::string_view account_id, const PasswordPolicy& p) {
  if (auto bad = p.invalid_field()) return err::invalid("InvalidParameter." + bad->first, bad->second);
  if (auto s = set_setting(account_id, kPasswordPolicy, p.to_json()); !s) return s.error();
  return p;
}

Result<SecurityPreference> IamService::security_preference(std::string_view account_id) {
  auto v = setting(account_id, kSecurityPreference);
  if (!v) return v.error();
  return v->empty() ? SecurityPreference{} : SecurityPreference::from_json(*v);
}

Result<SecurityPreference> IamService::set_security_preference(std::string_view account_id,
                                                               const SecurityPreference& p) {
  if (p.login_session_duration < 1 || p.login_session_duration > 24)
    return err::invalid("InvalidParameter.LoginSessionDuration",
                        "LoginSessionDuration must be 1 to 24 hours, got " + std::to_string(p.login_session_duration) +
                            ".");
  if (auto e = check_length("LoginNetworkMasks", p.login_network_masks, 0, 2000)) return *e;
  if (auto why = login_network_masks_problem(p.login_network_masks))
    return err::invalid("InvalidParameter.LoginNetworkMasks", *why);
  if (auto s = set_setting(account_id, kSecurityPreference, p.to_json()); !s) return s.error();
  return p;
}

Result<IamService::VettedPassword> IamService::vet_user_password(std::string_view account_id, std::string_view user,
                                                                 std::string_view password) {
  auto policy = password_policy(account_id);
  if (!policy) return policy.error();
  if (auto why = policy->violation(password)) return err::invalid("InvalidParameter.Password.PolicyViolation", *why);
  auto old = guarded([&]() -> Result<std::string> {
    std::lock_guard lk(store_->mutex());
    auto q = store_->db().query("SELECT password_history FROM login_profiles WHERE account_id = ? AND user_name = ?",
                                account_id, user);
    return q.step() ? q.text(0) : std::string("[]");
  });
  if (!old) return old.error();
  std::vector<std::string> history;
  std::error_code ec;
  json::value v = json::parse(*old, ec);
  if (!ec && v.is_array())
    for (const auto& h : v.as_array())
      if (h.is_string()) history.emplace_back(h.as_string());
  // The current password is history[0]; PasswordReusePrevention N refuses the last N.
  const size_t n = static_cast<size_t>(std::max<int64_t>(0, policy->password_reuse_prevention));
  for (size_t i = 0; i < history.size() && i < n; ++i)
    if (store::verify_password(history[i], password))
      return err::invalid("InvalidParameter.Password.Reused",
                          "The password policy refuses the last " + std::to_string(n) +
                              " passwords of this user (PasswordReusePrevention); choose another one.");
  VettedPassword out;
  out.hash = store::hash_password(password);
  json::array a;
  a.emplace_back(out.hash);
  for (size_t i = 0; i < history.size() && a.size() < kHistoryKept; ++i) a.emplace_back(history[i]);
  out.history = json::serialize(a);
  return out;
}

Result<int64_t> IamService::change_password(std::string_view account_id, std::string_view user,
                                            std::string_view old_password, std::string_view new_password) {
  auto acct = get_account(account_id);
  if (!acct) return acct.error();
  if (!verify_user_login(std::string(user) + "@" + acct->alias, old_password))
    return err::invalid("InvalidParameter.OldPassword", "The old password is wrong.");
  if (old_password == new_password)
    return err::invalid("InvalidParameter.Password.Same", "The new password must differ from the current one.");
  auto p = update_login_profile(account_id, user, std::string(new_password), false, std::nullopt);
  if (!p) return p.error();
  return p->generation;
}

// ---- MaxLoginAttemps ----

namespace {
constexpr int64_t kLockWindow = 3600;
std::string failure_key(std::string_view account_id, std::string_view user) {
  return std::string(account_id) + ":" + std::string(user) + "\x1f";
}
}  // namespace

bool IamService::user_login_locked(std::string_view account_id, std::string_view user, std::string_view source) {
  auto policy = password_policy(account_id);
  if (!policy || policy->max_login_attempts <= 0) return false;
  const int64_t t = now();
  std::lock_guard lk(attempts_mu_);
  auto it = login_failures_.find(failure_key(account_id, user) + std::string(source));
  if (it == login_failures_.end()) return false;
  auto& v = it->second;
  std::erase_if(v, [&](int64_t x) { return x <= t - kLockWindow; });
  return static_cast<int64_t>(v.size()) >= policy->max_login_attempts;
}

void IamService::user_login_failed(std::string_view account_id, std::string_view user, std::string_view source) {
  const int64_t t = now();
  std::lock_guard lk(attempts_mu_);
  if (login_failures_.size() > 100000) login_failures_.clear();  // bounded: a flood forgets, never grows
  auto& v = login_failures_[failure_key(account_id, user) + std::string(source)];
  std::erase_if(v, [&](int64_t x) { return x <= t - kLockWindow; });
  if (v.size() < 64) v.push_back(t);
}

void IamService::user_login_cleared(std::string_view account_id, std::string_view user) {
  const std::string prefix = failure_key(account_id, user);
  std::lock_guard lk(attempts_mu_);
  std::erase_if(login_failures_, [&](const auto& kv) { return kv.first.starts_with(prefix); });
}

}  // namespace sluice::iam
