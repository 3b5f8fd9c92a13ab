// RAM account security settings: the password policy, the security
// preference, and a RAM user's own password change (issue 21).
#include "api/ops_util.hpp"
#include "api/ram_internal.hpp"

namespace sluice::api::ram {

namespace {

void write_password_policy(JsonWriter& w, const iam::PasswordPolicy& p) {
  w.key("PasswordPolicy").begin_object();
  w.field("MinimumPasswordLength", p.minimum_password_length);
  w.field("RequireLowercaseCharacters", p.require_lowercase);
  w.field("RequireUppercaseCharacters", p.require_uppercase);
  w.field("RequireNumbers", p.require_numbers);
  w.field("RequireSymbols", p.require_symbols);
  w.field("HardExpiry", p.hard_expiry);
  w.field("MaxPasswordAge", p.max_password_age);
  w.field("PasswordReusePrevention", p.password_reuse_prevention);
  w.field("MaxLoginAttemps", p.max_login_attempts);
  w.end_object();
}

void GetPasswordPolicy(Call& c) {
  c.authorize("ram:GetPasswordPolicy", c.arn("ram", "*"));
  write_password_policy(c.out(), unwrap(c.iam().password_policy(c.account())));
}

// Parameters not given keep their current values (the SDK sends only those set).
void SetPasswordPolicy(Call& c) {
  c.authorize("ram:SetPasswordPolicy", c.arn("ram", "*"));
  auto p = unwrap(c.iam().password_policy(c.account()));
  auto num = [&](const char* name, int64_t& field, int64_t lo, int64_t hi) {
    if (c.opt(name)) field = c.opt_int(name, field, lo, hi);
  };
  auto flag = [&](const char* name, bool& field) {
    if (auto v = c.opt_bool(name)) field = *v;
  };
  num("MinimumPasswordLength", p.minimum_password_length, 8, 32);
  flag("RequireLowercaseCharacters", p.require_lowercase);
  flag("RequireUppercaseCharacters", p.require_uppercase);
  flag("RequireNumbers", p.require_numbers);
  flag("RequireSymbols", p.require_symbols);
  flag("HardExpiry", p.hard_expiry);
  num("MaxPasswordAge", p.max_password_age, 0, 1095);
  num("PasswordReusePrevention", p.password_reuse_prevention, 0, 24);
  num("MaxLoginAttemps", p.max_login_attempts, 0, 32);
  write_password_policy(c.out(), unwrap(c.iam().set_password_policy(c.account(), p)));
}

void write_preference(JsonWriter& w, const iam::SecurityPreference& p) {
  w.key("SecurityPreference").begin_object();
  w.key("LoginProfilePreference").begin_object();
  w.field("AllowUserToChangePassword", p.allow_user_to_change_password);
  w.field("EnableSaveMFATicket", p.enable_save_mfa_ticket);
  w.field("LoginSessionDuration", p.login_session_duration);
  w.field("LoginNetworkMasks", p.login_network_masks);
  w.end_object();
  w.key("AccessKeyPreference").begin_object();
  w.field("AllowUserToManageAccessKeys", p.allow_user_to_manage_access_keys);
  w.end_object();
  w.key("MFAPreference").begin_object();
  w.field("AllowUserToManageMFADevices", p.allow_user_to_manage_mfa_devices);
  w.end_object();
  w.key("PublicKeyPreference").begin_object();
  w.field("AllowUserToManagePublicKeys", p.allow_user_to_manage_public_keys);
  w.end_object();
  w.end_object();
}

void GetSecurityPreference(Call& c) {
  c.authorize("ram:GetSecurityPreference", c.arn("ram", "*"));
  write_preference(c.out(), unwrap(c.iam().security_preference(c.account())));
}

void SetSecurityPreference(Call& c) {
  c.authorize("ram:SetSecurityPreference", c.arn("ram", "*"));
  auto p = unwrap(c.iam().security_preference(c.account()));
  auto flag = [&](const char* name, bool& field) {
    if (auto v = c.opt_bool(name)) field = *v;
  };
  flag("AllowUserToChangePassword", p.allow_user_to_change_password);
  flag("AllowUserToManageAccessKeys", p.allow_user_to_manage_access_keys);
  flag("AllowUserToManageMFADevices", p.allow_user_to_manage_mfa_devices);
  flag("AllowUserToManagePublicKeys", p.allow_user_to_manage_public_keys);
  flag("EnableSaveMFATicket", p.enable_save_mfa_ticket);
  if (c.opt("LoginSessionDuration")) p.login_session_duration = c.opt_int("LoginSessionDuration", 6, 1, 24);
  if (auto m = c.opt("LoginNetworkMasks")) p.login_network_masks = *m;
  write_preference(c.out(), unwrap(c.iam().set_security_preference(c.account(), p)));
}

// A RAM user changes its own password. As in the cloud, the security preference
// (AllowUserToChangePassword, on by default) lets every RAM user do so without a
// policy; when it is off, only a policy allowing ram:ChangePassword on the user does.
void ChangePassword(Call& c) {
  const auto& who = c.principal();
  auto old_pw = c.req("OldPassword");
  auto new_pw = c.req("NewPassword");
  if (who.kind != iam::Principal::Kind::User)
    fail("InvalidIdentity.NotRamUser", 400,
         "ChangePassword changes the calling RAM user's own console password; the root account and role sessions "
         "have none here (the root account changes its password in the console).");
  auto pref = unwrap(c.iam().security_preference(c.account()));
  if (pref.allow_user_to_change_password) c.authorize_unless_denied("ram:ChangePassword", user_arn(c, who.name));
  else c.authorize("ram:ChangePassword", user_arn(c, who.name));
  unwrap(c.iam().change_password(c.account(), who.name, old_pw, new_pw));
}

}  // namespace

void add_security_operations(Registry& r) {
  add(r, {
      {"GetPasswordPolicy", GetPasswordPolicy},
      {"SetPasswordPolicy", SetPasswordPolicy},
      {"GetSecurityPreference", GetSecurityPreference},
      {"SetSecurityPreference", SetSecurityPreference},
      {"ChangePassword", ChangePassword},
  });
}

}  // namespace sluice::api::ram
