#pragma once
// The account's password policy for RAM users' console passwords (RAM
// GetPasswordPolicy / SetPasswordPolicy, the cloud's fields and defaults) and
// the account's security preference (Get/SetSecurityPreference). Both are
// stored as JSON in the account_settings table (iam_settings.cpp); this file
// holds their shape, their ranges and the password check.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::iam {

struct PasswordPolicy {
  int64_t minimum_password_length = 8;  // 8..32
  bool require_lowercase = false;
  bool require_uppercase = false;
  bool require_numbers = false;
  bool require_symbols = false;
  bool hard_expiry = false;            // an expired password cannot sign in at all (else: must change)
  int64_t max_password_age = 0;        // days, 0..1095; 0 = never expires
  int64_t password_reuse_prevention = 0;  // the last N passwords may not come back, 0..24
  int64_t max_login_attempts = 5;      // wrong passwords per hour before sign-in locks, 0..32 (0: off)

  std::string to_json() const;
  // Missing fields keep their defaults; unreadable JSON gives the defaults.
  static PasswordPolicy from_json(std::string_view json);
  // The first field out of range: (parameter name, message); nullopt when valid.
  std::optional<std::pair<std::string, std::string>> invalid_field() const;
  // Why `password` does not satisfy the policy (one sentence naming every rule
  // it breaks), or nullopt. The 128-character ceiling is checked too.
  std::optional<std::string> violation(std::string_view password) const;
};

struct SecurityPreference {
  bool allow_user_to_change_password = true;
  bool allow_user_to_manage_access_keys = false;
  bool allow_user_to_manage_mfa_devices = true;
  bool allow_user_to_manage_public_keys = false;
  bool enable_save_mfa_ticket = false;
  int64_t login_session_duration = 6;  // hours, 1..24
  std::string login_network_masks;    // ';'-separated CIDRs; "" = anywhere

  std::string to_json() const;
  static SecurityPreference from_json(std::string_view json);
};

}  // namespace sluice::iam
