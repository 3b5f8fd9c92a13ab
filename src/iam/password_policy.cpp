// Password policy and security preference: JSON form, ranges, the check.
#include "iam/password_policy.hpp"

#include <boost/json.hpp>

namespace sluice::iam {

namespace json = boost::json;

namespace {
template <class T>
void read(const json::object& o, const char* k, T& out) {
  auto* v = o.if_contains(k);
  if (!v) return;
  if constexpr (std::is_same_v<T, bool>) {
    if (v->is_bool()) out = v->as_bool();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (v->is_string()) out = std::string(v->as_string());
  } else {
    if (v->is_int64()) out = v->as_int64();
  }
}
json::object parse_object(std::string_view text) {
  std::error_code ec;
  json::value v = json::parse(text, ec);
  return !ec && v.is_object() ? v.as_object() : json::object{};
}
}  // namespace

std::string PasswordPolicy::to_json() const {
  json::object o;
  o["MinimumPasswordLength"] = minimum_password_length;
  o["RequireLowercaseCharacters"] = require_lowercase;
  o["RequireUppercaseCharacters"] = require_uppercase;
  o["RequireNumbers"] = require_numbers;
  o["RequireSymbols"] = require_symbols;
  o["HardExpiry"] = hard_expiry;
  o["MaxPasswordAge"] = max_password_age;
  o["PasswordReusePrevention"] = password_reuse_prevention;
  o["MaxLoginAttemps"] = max_login_attempts;
  return json::serialize(o);
}

PasswordPolicy PasswordPolicy::from_json(std::string_view text) {
  PasswordPolicy p;
  auto o = parse_object(text);
  read(o, "MinimumPasswordLength", p.minimum_password_length);
  read(o, "RequireLowercaseCharacters", p.require_lowercase);
  read(o, "RequireUppercaseCharacters", p.require_uppercase);
  read(o, "RequireNumbers", p.require_numbers);
  read(o, "RequireSymbols", p.require_symbols);
  read(o, "HardExpiry", p.hard_expiry);
  read(o, "MaxPasswordAge", p.max_password_age);
  read(o, "PasswordReusePrevention", p.password_reuse_prevention);
  read(o, "MaxLoginAttemps", p.max_login_attempts);
  return p;
}

std::optional<std::pair<std::string, std::string>> PasswordPolicy::invalid_field() const {
  auto range = [](const char* name, int64_t v, int64_t lo, int64_t hi)
      -> std::optional<std::pair<std::string, std::string>> {
    if (v >= lo && v <= hi) return std::nullopt;
    return std::pair<std::string, std::string>{
        name, std::string(name) + " must be " + std::to_string(lo) + " to " + std::to_string(hi) + ", got " +
                  std::to_string(v) + "."};
  };
  if (auto e = range("MinimumPasswordLength", minimum_password_length, 8, 32)) return e;
  if (auto e = range("MaxPasswordAge", max_password_age, 0, 1095)) return e;
  if (auto e = range("PasswordReusePrevention", password_reuse_prevention, 0, 24)) return e;
  if (auto e = range("MaxLoginAttemps", max_login_attempts, 0, 32)) return e;
  return std::nullopt;
}

std::optional<std::string> PasswordPolicy::violation(std::string_view pw) const {
  bool lower = false, upper = false, digit = false, symbol = false;
  for (unsigned char c : pw) {
    if (c >= 'a' && c <= 'z') lower = true;
    else if (c >= 'A' && c <= 'Z') upper = true;
    else if (c >= '0' && c <= '9') digit = true;
    else symbol = true;
  }
  std::string missing;
  auto need = [&](bool bad, const char* what) {
    if (!bad) return;
    missing += missing.empty() ? "" : ", ";
    missing += what;
  };
  need(pw.size() < static_cast<size_t>(minimum_password_length),
       ("at least " + std::to_string(minimum_password_length) + " characters").c_str());
  need(pw.size() > 128, "at most 128 characters");
  need(require_lowercase && !lower, "a lowercase letter");
  need(require_uppercase && !upper, "an uppercase letter");
  need(require_numbers && !digit, "a digit");
  need(require_symbols && !symbol, "a symbol");
  if (missing.empty()) return std::nullopt;
  return "The password does not satisfy the account's password policy: it needs " + missing + ".";
}

std::string SecurityPreference::to_json() const {
  json::object o;
  o["AllowUserToChangePassword"] = allow_user_to_change_password;
  o["AllowUserToManageAccessKeys"] = allow_user_to_manage_access_keys;
  o["AllowUserToManageMFADevices"] = allow_user_to_manage_mfa_devices;
  o["AllowUserToManagePublicKeys"] = allow_user_to_manage_public_keys;
  o["EnableSaveMFATicket"] = enable_save_mfa_ticket;
  o["LoginSessionDuration"] = login_session_duration;
  o["LoginNetworkMasks"] = login_network_masks;
  return json::serialize(o);
}

SecurityPreference SecurityPreference::from_json(std::string_view text) {
  SecurityPreference p;
  auto o = parse_object(text);
  read(o, "AllowUserToChangePassword", p.allow_user_to_change_password);
  read(o, "AllowUserToManageAccessKeys", p.allow_user_to_manage_access_keys);
  read(o, "AllowUserToManageMFADevices", p.allow_user_to_manage_mfa_devices);
  read(o, "AllowUserToManagePublicKeys", p.allow_user_to_manage_public_keys);
  read(o, "EnableSaveMFATicket", p.enable_save_mfa_ticket);
  read(o, "LoginSessionDuration", p.login_session_duration);
  read(o, "LoginNetworkMasks", p.login_network_masks);
  return p;
}

}  // namespace sluice::iam
