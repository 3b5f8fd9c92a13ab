// RAM users and their login profiles (console passwords).
#include "api/ops_util.hpp"
#include "api/ram_internal.hpp"

namespace sluice::api::ram {

namespace {

// The cloud's principal name: <name>@<alias>.onaliyun.com (the default alias is the account id).
std::string principal_domain(Call& c) { return "@" + unwrap(c.iam().get_account(c.account())).alias + ".onaliyun.com"; }

void write_user(JsonWriter& w, const iam::User& u, const std::string& domain, bool full = true) {
  w.begin_object();
  w.field("UserId", u.user_id);
  w.field("UserName", u.name);
  w.field("UserPrincipalName", u.name + domain);
  w.field("DisplayName", u.display_name);
  w.field("Comments", u.comments);
  w.field("MobilePhone", u.mobile_phone);
  w.field("Email", u.email);
  w.field("CreateDate", iso_time(u.created_at));
  if (full) w.field("UpdateDate", iso_time(u.updated_at));
  w.end_object();
}

void CreateUser(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:CreateUser", user_arn(c, name));
  iam::UserContact contact{c.opt("Email").value_or(""), c.opt("MobilePhone").value_or("")};
  auto u = unwrap(c.iam().create_user(c.account(), {name, c.opt("DisplayName").value_or(""), c.opt("Comments").value_or("")},
                                      contact));
  c.out().key("User");
  write_user(c.out(), u, principal_domain(c), false);
}
void GetUser(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:GetUser", user_arn(c, name));
  auto u = unwrap(c.iam().get_user(c.account(), name));
  c.out().key("User");
  write_user(c.out(), u, principal_domain(c));
}
void UpdateUser(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:UpdateUser", user_arn(c, name));
  iam::UserUpdate up;
  up.name = c.opt("NewUserName");
  up.display_name = c.opt("NewDisplayName");
  up.comments = c.opt("NewComments");
  up.email = c.opt("NewEmail");
  up.mobile_phone = c.opt("NewMobilePhone");
  auto u = unwrap(c.iam().update_user(c.account(), name, up));
  c.out().key("User");
  write_user(c.out(), u, principal_domain(c));
}
void DeleteUser(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:DeleteUser", user_arn(c, name));
  unwrap(c.iam().delete_user(c.account(), name));
}
void ListUsers(Call& c) {
  c.authorize("ram:ListUsers", user_arn(c, "*"));
  const std::string domain = principal_domain(c);
  marker_list(c, unwrap(c.iam().list_users(c.account())), "Users", "User",
              [&domain](JsonWriter& w, const iam::User& u) { write_user(w, u, domain); });
}

// ---- login profiles ----
void write_profile(JsonWriter& w, const iam::LoginProfile& p) {
  w.key("LoginProfile").begin_object();
  w.field("UserName", p.user_name);
  w.field("PasswordResetRequired", p.password_reset_required);
  w.field("MFABindRequired", p.mfa_bind_required);
  w.field("CreateDate", iso_time(p.created_at));
  w.end_object();
}
void CreateLoginProfile(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:CreateLoginProfile", user_arn(c, name));
  auto p = unwrap(c.iam().create_login_profile(c.account(), name, c.req("Password"),
                                               c.opt_bool("PasswordResetRequired").value_or(false),
                                               c.opt_bool("MFABindRequired").value_or(false)));
  write_profile(c.out(), p);
}
void GetLoginProfile(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:GetLoginProfile", user_arn(c, name));
  write_profile(c.out(), unwrap(c.iam().get_login_profile(c.account(), name)));
}
void UpdateLoginProfile(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:UpdateLoginProfile", user_arn(c, name));
  write_profile(c.out(), unwrap(c.iam().update_login_profile(c.account(), name, c.opt("Password"),
                                                             c.opt_bool("PasswordResetRequired"),
                                                             c.opt_bool("MFABindRequired"))));
}
void DeleteLoginProfile(Call& c) {
  auto name = c.req("UserName");
  c.authorize("ram:DeleteLoginProfile", user_arn(c, name));
  unwrap(c.iam().delete_login_profile(c.account(), name));
}

}  // namespace

void add_user_operations(Registry& r) {
  add(r, {
      {"CreateUser", CreateUser},
      {"GetUser", GetUser},
      {"UpdateUser", UpdateUser},
      {"DeleteUser", DeleteUser},
      {"ListUsers", ListUsers},
      {"CreateLoginProfile", CreateLoginProfile},
      {"GetLoginProfile", GetLoginProfile},
      {"UpdateLoginProfile", UpdateLoginProfile},
      {"DeleteLoginProfile", DeleteLoginProfile},
  });
}

}  // namespace sluice::api::ram
