// IamService: entities, RAM error codes, limits, persistence across reopen.
#include <set>

#include "iam/identity.hpp"
#include "iam/system_catalog.hpp"
#include "iam/test_util.hpp"
#include "store/crypto.hpp"

using namespace sluice::iam;
using namespace sluice::iam::testing;

namespace {
const std::string kDoc = R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:PUB","Resource":"*"}]})";
const std::string kTrust =
    R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::ACCT:root"]}}]})";
std::string trust_for(const std::string& acct) {
  std::string t = kTrust;
  t.replace(t.find("ACCT"), 4, acct);
  return t;
}
bool all_in(const std::string& s, std::string_view alphabet) {
  for (char c : s)
    if (alphabet.find(c) == std::string_view::npos) return false;
  return true;
}
}  // namespace

using IamServiceTest = IamFixture;

TEST_F(IamServiceTest, AccountHasIdDefaultGroupAndActivation) {
  auto a = iam_->create_account("root@acme.com", "acme", "password-123");
  ASSERT_OK(a);
  EXPECT_EQ(a->id.size(), 16u);
  EXPECT_TRUE(all_in(a->id, sluice::store::kDigits));
  EXPECT_NE(a->id[0], '0');
  auto rg = iam_->default_resource_group(a->id);
  ASSERT_OK(rg);
  EXPECT_TRUE(rg->is_default);
  EXPECT_EQ(rg->id.rfind("rg-", 0), 0u);
  EXPECT_FALSE(*iam_->service_active(a->id, "mq"));
  ASSERT_OK(iam_->activate_service(a->id, "mq"));
  ASSERT_OK(iam_->activate_service(a->id, "mq"));  // idempotent
  EXPECT_TRUE(*iam_->service_active(a->id, "mq"));
  EXPECT_TRUE(iam_->get_account(a->id)->mq_activated);
  EXPECT_CODE(iam_->create_account("root@acme.com", "other", "password-123"), "EntityAlreadyExists.Account.LoginName");
  EXPECT_CODE(iam_->create_account("x@acme.com", "acme", "password-123"), "EntityAlreadyExists.Account.Alias");
  EXPECT_CODE(iam_->create_account("y@acme.com", "yy1", "short"), "InvalidParameter.Password.Length");
  EXPECT_CODE(iam_->activate_service("1234567890123456", "mq"), "EntityNotExist.Account");
}

TEST_F(IamServiceTest, RootAndUserLogin) {
  std::string acct = new_account("acme");
  ASSERT_OK(iam_->verify_root_login("acme@example.com", "password-123"));
  ASSERT_OK(iam_->verify_root_login("acme", "password-123"));
  EXPECT_CODE(iam_->verify_root_login("acme", "password-124"), "InvalidLogin");
  EXPECT_CODE(iam_->verify_root_login("nobody", "password-123"), "InvalidLogin");
  ASSERT_OK(iam_->create_user(acct, {"alice", "Alice", ""}));
  EXPECT_CODE(iam_->verify_user_login("alice@acme", "alice-pass-1"), "InvalidLogin");  // no login profile yet
  ASSERT_OK(iam_->create_login_profile(acct, "alice", "alice-pass-1"));
  EXPECT_CODE(iam_->create_login_profile(acct, "alice", "alice-pass-1"), "EntityAlreadyExists.User.LoginProfile");
  auto u = iam_->verify_user_login("alice@acme", "alice-pass-1");
  ASSERT_OK(u);
  EXPECT_EQ(u->name, "alice");
  EXPECT_CODE(iam_->verify_user_login("alice@acme", "wrong-pass-1"), "InvalidLogin");
  ASSERT_OK(iam_->update_login_profile(acct, "alice", std::string("new-pass-22"), true, std::nullopt));
  ASSERT_OK(iam_->verify_user_login("alice@acme", "new-pass-22"));
  EXPECT_TRUE(iam_->get_login_profile(acct, "alice")->password_reset_required);
  ASSERT_OK(iam_->delete_login_profile(acct, "alice"));
  EXPECT_CODE(iam_->get_login_profile(acct, "alice"), "EntityNotExist.User.LoginProfile");
  EXPECT_CODE(iam_->delete_login_profile(acct, "alice"), "EntityNotExist.User.LoginProfile");
  // The password is stored as an Argon2id hash, never in clear.
  auto q = iam_->store().db().query("SELECT password_hash FROM accounts WHERE id = ?", acct);
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.text(0).rfind("$argon2id$", 0), 0u);
}

TEST_F(IamServiceTest, UserErrors) {
  std::string acct = new_account();
  ASSERT_OK(iam_->create_user(acct, {"alice", "", ""}));
  EXPECT_EQ(iam_->get_user(acct, "alice")->display_name, "alice");
  EXPECT_EQ(iam_->get_user(acct, "alice")->user_id.size(), 16u);
  EXPECT_CODE(iam_->create_user(acct, {"alice", "", ""}), "EntityAlreadyExists.User");
  auto e = iam_->create_user(acct, {"bad name!", "", ""});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, "InvalidParameter.UserName.InvalidChars");
  EXPECT_EQ(e.error().http_status, 400);
  EXPECT_CODE(iam_->create_user(acct, {std::string(65, 'a'), "", ""}), "InvalidParameter.UserName.Length");
  EXPECT_CODE(iam_->create_user(acct, {"", "", ""}), "InvalidParameter.UserName.Length");
  EXPECT_CODE(iam_->create_user(acct, {"bob", "", std::string(129, 'c')}), "InvalidParameter.Comments.Length");
  auto ne = iam_->get_user(acct, "nobody");
  ASSERT_FALSE(ne.ok());
  EXPECT_EQ(ne.error().code, "EntityNotExist.User");
  EXPECT_EQ(ne.error().http_status, 404);
  EXPECT_NE(ne.error().message.find("nobody"), std::string::npos);
  EXPECT_CODE(iam_->delete_user(acct, "nobody"), "EntityNotExist.User");
  auto dup = iam_->create_user(acct, {"alice", "", ""});
  EXPECT_EQ(dup.error().http_status, 409);
  // Rename carries attachments along.
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "alice"}, PolicyType::System, "AliyunMQFullAccess"));
  ASSERT_OK(iam_->update_user(acct, "alice", std::string("alice2"), std::string("Alice Two"), std::nullopt));
  EXPECT_CODE(iam_->get_user(acct, "alice"), "EntityNotExist.User");
  auto atts = iam_->list_attachments(acct, {PrincipalRef{PrincipalType::User, "alice2"}});
  ASSERT_OK(atts);
  EXPECT_EQ(atts->size(), 1u);
  // Keys, group membership and the login profile follow a renamed user too.
  ASSERT_OK(iam_->create_group(acct, "ops"));
  ASSERT_OK(iam_->add_user_to_group(acct, "ops", "alice2"));
  ASSERT_OK(iam_->create_login_profile(acct, "alice2", "password-1234"));
  auto key = iam_->create_access_key(acct, std::string("alice2"));
  ASSERT_OK(key);
  ASSERT_OK(iam_->update_user(acct, "alice2", std::string("alice3"), std::nullopt, std::nullopt));
  EXPECT_EQ(iam_->list_access_keys(acct, std::string("alice3"))->size(), 1u);
  EXPECT_EQ(iam_->lookup_access_key(key->key.id)->principal.name, "alice3");
  EXPECT_EQ(iam_->list_groups_for_user(acct, "alice3")->size(), 1u);
  ASSERT_OK(iam_->verify_user_login("alice3@acme", "password-1234"));
  // Users are per account.
  std::string other = new_account("other");
  ASSERT_OK(iam_->create_user(other, {"alice", "", ""}));
  EXPECT_EQ(iam_->list_users(acct)->size(), 1u);
}

TEST_F(IamServiceTest, UserLimit) {
  limits_.users_per_account = 3;
  reopen();
  std::string acct = new_account();
  for (int i = 0; i < 3; ++i) ASSERT_OK(iam_->create_user(acct, {"u" + std::to_string(i), "", ""}));
  auto r = iam_->create_user(acct, {"u3", "", ""});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "LimitExceeded.User");
  EXPECT_EQ(r.error().http_status, 409);
}

TEST_F(IamServiceTest, DeleteUserConflicts) {
  std::string acct = new_account();
  ASSERT_OK(iam_->create_user(acct, {"alice", "", ""}));
  auto k = iam_->create_access_key(acct, std::string("alice"));
  ASSERT_OK(k);
  EXPECT_CODE(iam_->delete_user(acct, "alice"), "DeleteConflict.User.AccessKey");
  ASSERT_OK(iam_->delete_access_key(acct, std::string("alice"), k->key.id));
  ASSERT_OK(iam_->create_group(acct, "ops"));
  ASSERT_OK(iam_->add_user_to_group(acct, "ops", "alice"));
  EXPECT_CODE(iam_->delete_user(acct, "alice"), "DeleteConflict.User.Group");
  EXPECT_CODE(iam_->delete_group(acct, "ops"), "DeleteConflict.Group.User");
  ASSERT_OK(iam_->remove_user_from_group(acct, "ops", "alice"));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "alice"}, PolicyType::System, "ReadOnlyAccess"));
  EXPECT_CODE(iam_->delete_user(acct, "alice"), "DeleteConflict.User.Policy");
  ASSERT_OK(iam_->detach_policy(acct, {PrincipalType::User, "alice"}, PolicyType::System, "ReadOnlyAccess"));
  ASSERT_OK(iam_->create_login_profile(acct, "alice", "password-1234"));
  ASSERT_OK(iam_->delete_user(acct, "alice"));  // the login profile goes with it
  EXPECT_CODE(iam_->get_user(acct, "alice"), "EntityNotExist.User");
  ASSERT_OK(iam_->create_user(acct, {"alice", "", ""}));
  EXPECT_CODE(iam_->get_login_profile(acct, "alice"), "EntityNotExist.User.LoginProfile");
}

TEST_F(IamServiceTest, AccessKeys) {
  std::string acct = new_account();
  ASSERT_OK(iam_->create_user(acct, {"alice", "", ""}));
  auto k1 = iam_->create_access_key(acct, std::string("alice"));
  ASSERT_OK(k1);
  EXPECT_EQ(k1->key.id.size(), 24u);
  EXPECT_EQ(k1->key.id.rfind("LTAI", 0), 0u);
  EXPECT_TRUE(all_in(k1->key.id.substr(4), sluice::store::kAlnum));
  EXPECT_EQ(k1->secret.size(), 30u);
  EXPECT_TRUE(all_in(k1->secret, sluice::store::kAlnum));
  ASSERT_OK(iam_->create_access_key(acct, std::string("alice")));
  auto over = iam_->create_access_key(acct, std::string("alice"));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, "LimitExceeded.User.AccessKey");
  EXPECT_EQ(over.error().http_status, 409);
  // Listing never shows secrets (the struct has none); the secret is encrypted at rest.
  EXPECT_EQ(iam_->list_access_keys(acct, std::string("alice"))->size(), 2u);
  auto q = iam_->store().db().query("SELECT secret_enc FROM access_keys WHERE id = ?", k1->key.id);
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.blob(0).find(k1->secret), std::string::npos);
  // Lookup decrypts.
  auto info = iam_->lookup_access_key(k1->key.id);
  ASSERT_OK(info);
  EXPECT_EQ(info->secret, k1->secret);
  EXPECT_EQ(info->principal.kind, Principal::Kind::User);
  EXPECT_EQ(info->principal.name, "alice");
  EXPECT_EQ(info->status, KeyStatus::Active);
  ASSERT_OK(iam_->update_access_key(acct, std::string("alice"), k1->key.id, KeyStatus::Inactive));
  EXPECT_EQ(iam_->lookup_access_key(k1->key.id)->status, KeyStatus::Inactive);  // cache invalidated
  EXPECT_CODE(iam_->update_access_key(acct, std::string("alice"), "LTAInope", KeyStatus::Active),
              "EntityNotExist.User.AccessKey");
  EXPECT_CODE(iam_->lookup_access_key("LTAInope"), "EntityNotExist.AccessKey");
  EXPECT_CODE(iam_->create_access_key(acct, std::string("bob")), "EntityNotExist.User");
  // Root keys.
  auto rk = iam_->create_access_key(acct, std::nullopt);
  ASSERT_OK(rk);
  EXPECT_EQ(iam_->lookup_access_key(rk->key.id)->principal.kind, Principal::Kind::Root);
  EXPECT_EQ(iam_->list_access_keys(acct, std::nullopt)->size(), 1u);
  // Another user's key cannot be managed through this user.
  ASSERT_OK(iam_->create_user(acct, {"bob", "", ""}));
  EXPECT_CODE(iam_->delete_access_key(acct, std::string("bob"), k1->key.id), "EntityNotExist.User.AccessKey");
}

TEST_F(IamServiceTest, GroupsAndGroupLimit) {
  limits_.groups_per_user = 2;
  reopen();
  std::string acct = new_account();
  ASSERT_OK(iam_->create_user(acct, {"alice", "", ""}));
  ASSERT_OK(iam_->create_group(acct, "g1", "first"));
  EXPECT_CODE(iam_->create_group(acct, "g1"), "EntityAlreadyExists.Group");
  EXPECT_CODE(iam_->create_group(acct, "g_1"), "InvalidParameter.GroupName.InvalidChars");
  ASSERT_OK(iam_->create_group(acct, "g2"));
  ASSERT_OK(iam_->create_group(acct, "g3"));
  ASSERT_OK(iam_->add_user_to_group(acct, "g1", "alice"));
  EXPECT_CODE(iam_->add_user_to_group(acct, "g1", "alice"), "EntityAlreadyExists.User.Group");
  ASSERT_OK(iam_->add_user_to_group(acct, "g2", "alice"));
  EXPECT_CODE(iam_->add_user_to_group(acct, "g3", "alice"), "LimitExceeded.User.Group");
  EXPECT_CODE(iam_->add_user_to_group(acct, "nope", "alice"), "EntityNotExist.Group");
  EXPECT_CODE(iam_->add_user_to_group(acct, "g3", "nobody"), "EntityNotExist.User");
  EXPECT_CODE(iam_->remove_user_from_group(acct, "g3", "alice"), "EntityNotExist.User.Group");
  EXPECT_EQ(iam_->list_groups_for_user(acct, "alice")->size(), 2u);
  EXPECT_EQ(iam_->list_users_for_group(acct, "g1")->size(), 1u);
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::Group, "g3"}, PolicyType::System, "ReadOnlyAccess"));
  EXPECT_CODE(iam_->delete_group(acct, "g3"), "DeleteConflict.Group.Policy");
}

TEST_F(IamServiceTest, DefaultGroupLimitIsTen) {
  std::string acct = new_account();
  ASSERT_OK(iam_->create_user(acct, {"alice", "", ""}));
  for (int i = 0; i < 11; ++i) ASSERT_OK(iam_->create_group(acct, "g" + std::to_string(i)));
  for (int i = 0; i < 10; ++i) ASSERT_OK(iam_->add_user_to_group(acct, "g" + std::to_string(i), "alice"));
  EXPECT_CODE(iam_->add_user_to_group(acct, "g10", "alice"), "LimitExceeded.User.Group");
}

TEST_F(IamServiceTest, PoliciesAndVersions) {
  std::string acct = new_account();
  auto bad = iam_->create_policy(acct, "p1", R"({"Version":"1","Statement":[{"Effect":"Maybe"}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "MalformedPolicyDocument");
  EXPECT_EQ(bad.error().http_status, 400);
  EXPECT_FALSE(bad.error().message.empty());
  EXPECT_CODE(iam_->create_policy(acct, "p1", "not json"), "MalformedPolicyDocument");
  EXPECT_CODE(iam_->create_policy(acct, "bad name", kDoc), "InvalidParameter.PolicyName.InvalidChars");
  ASSERT_OK(iam_->create_policy(acct, "p1", kDoc, "publish"));
  EXPECT_CODE(iam_->create_policy(acct, "p1", kDoc), "EntityAlreadyExists.Policy");
  for (int i = 2; i <= 5; ++i) {
    auto v = iam_->create_policy_version(acct, "p1", kDoc, false);
    ASSERT_OK(v);
    EXPECT_EQ(v->version_id, "v" + std::to_string(i));
  }
  EXPECT_CODE(iam_->create_policy_version(acct, "p1", kDoc, false), "LimitExceeded.Policy.Version");
  auto rot = iam_->create_policy_version(acct, "p1", kDoc, true, /*rotate=*/true);
  ASSERT_OK(rot);
  EXPECT_EQ(rot->version_id, "v6");
  auto vs = iam_->list_policy_versions(acct, PolicyType::Custom, "p1");
  ASSERT_OK(vs);
  ASSERT_EQ(vs->size(), 5u);
  EXPECT_EQ(vs->front().version_id, "v1");  // v1 was the default: v2 was rotated out
  EXPECT_EQ((*vs)[1].version_id, "v3");
  EXPECT_EQ(iam_->get_policy(acct, PolicyType::Custom, "p1")->default_version, "v6");
  EXPECT_CODE(iam_->delete_policy_version(acct, "p1", "v6"), "DeleteConflict.PolicyVersion.Default");
  EXPECT_CODE(iam_->delete_policy_version(acct, "p1", "v2"), "EntityNotExist.PolicyVersion");
  EXPECT_CODE(iam_->set_default_policy_version(acct, "p1", "v9"), "EntityNotExist.PolicyVersion");
  ASSERT_OK(iam_->set_default_policy_version(acct, "p1", "v3"));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::Group, "nope"}, PolicyType::Custom, "p1").ok()
                ? Status{}
                : Status{});
  ASSERT_OK(iam_->create_group(acct, "ops"));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::Group, "ops"}, PolicyType::Custom, "p1"));
  EXPECT_CODE(iam_->delete_policy(acct, "p1"), "DeleteConflict.Policy.Group");
  ASSERT_OK(iam_->detach_policy(acct, {PrincipalType::Group, "ops"}, PolicyType::Custom, "p1"));
  EXPECT_CODE(iam_->delete_policy(acct, "p1"), "DeleteConflict.Policy.Version");
  for (const char* v : {"v1", "v4", "v5", "v6"}) ASSERT_OK(iam_->delete_policy_version(acct, "p1", v));
  ASSERT_OK(iam_->delete_policy(acct, "p1"));
  EXPECT_CODE(iam_->get_policy(acct, PolicyType::Custom, "p1"), "EntityNotExist.Policy");
  // Document size limit.
  std::string big = R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:PUB","Resource":")" +
                    std::string(7000, 'a') + R"("}]})";
  EXPECT_CODE(iam_->create_policy(acct, "big", big), "MalformedPolicyDocument");
}

TEST_F(IamServiceTest, CustomPolicyLimit) {
  limits_.custom_policies_per_account = 2;
  reopen();
  std::string acct = new_account();
  ASSERT_OK(iam_->create_policy(acct, "a", kDoc));
  ASSERT_OK(iam_->create_policy(acct, "b", kDoc));
  EXPECT_CODE(iam_->create_policy(acct, "c", kDoc), "LimitExceeded.Policy");
}

TEST_F(IamServiceTest, SystemPoliciesAreReadOnlyAndFlagged) {
  std::string acct = new_account();
  std::set<std::string> names;
  for (const auto& p : system_policies()) {
    names.insert(p.name);
    EXPECT_TRUE(p.doc) << p.name << " does not parse";
  }
  for (const char* n : {"AdministratorAccess", "AliyunRAMFullAccess", "ReadOnlyAccess", "AliyunSTSAssumeRoleAccess",
                        "AliyunMQFullAccess", "AliyunMQPubOnlyAccess", "AliyunMQSubOnlyAccess",
                        "AliyunMQReadOnlyAccess"})
    EXPECT_TRUE(names.count(n)) << n;
  auto admin = iam_->get_policy(acct, PolicyType::System, "AdministratorAccess");
  ASSERT_OK(admin);
  EXPECT_TRUE(admin->high_risk);
  EXPECT_TRUE(iam_->get_policy(acct, PolicyType::System, "AliyunRAMFullAccess")->high_risk);
  EXPECT_FALSE(iam_->get_policy(acct, PolicyType::System, "AliyunMQPubOnlyAccess")->high_risk);
  EXPECT_CODE(iam_->get_policy(acct, PolicyType::System, "NoSuchPolicy"), "EntityNotExist.Policy");
  EXPECT_CODE(iam_->delete_policy(acct, "AdministratorAccess"), "EntityNotExist.Policy");  // not a custom one
  EXPECT_CODE(iam_->create_policy_version(acct, "AdministratorAccess", kDoc, true), "EntityNotExist.Policy");
  auto all = iam_->list_policies(acct, std::nullopt);
  ASSERT_OK(all);
  EXPECT_GE(all->size(), 8u);
  EXPECT_EQ(iam_->list_policy_versions(acct, PolicyType::System, "AliyunMQFullAccess")->size(), 1u);
}

TEST_F(IamServiceTest, AttachmentLimitsAndErrors) {
  limits_.system_policies_per_principal = 2;
  limits_.custom_policies_per_principal = 1;
  reopen();
  std::string acct = new_account();
  ASSERT_OK(iam_->create_user(acct, {"alice", "", ""}));
  PrincipalRef alice{PrincipalType::User, "alice"};
  ASSERT_OK(iam_->attach_policy(acct, alice, PolicyType::System, "ReadOnlyAccess"));
  EXPECT_CODE(iam_->attach_policy(acct, alice, PolicyType::System, "ReadOnlyAccess"), "EntityAlreadyExists.User.Policy");
  ASSERT_OK(iam_->attach_policy(acct, alice, PolicyType::System, "AliyunMQFullAccess"));
  EXPECT_CODE(iam_->attach_policy(acct, alice, PolicyType::System, "AliyunMQPubOnlyAccess"), "LimitExceeded.User.Policy");
  ASSERT_OK(iam_->create_policy(acct, "c1", kDoc));
  ASSERT_OK(iam_->create_policy(acct, "c2", kDoc));
  ASSERT_OK(iam_->attach_policy(acct, alice, PolicyType::Custom, "c1"));
  EXPECT_CODE(iam_->attach_policy(acct, alice, PolicyType::Custom, "c2"), "LimitExceeded.User.Policy");
  EXPECT_CODE(iam_->attach_policy(acct, alice, PolicyType::Custom, "nope"), "EntityNotExist.Policy");
  EXPECT_CODE(iam_->attach_policy(acct, alice, PolicyType::System, "nope"), "EntityNotExist.Policy");
  EXPECT_CODE(iam_->attach_policy(acct, {PrincipalType::Role, "r"}, PolicyType::System, "ReadOnlyAccess"),
              "EntityNotExist.Role");
  EXPECT_CODE(iam_->attach_policy(acct, {PrincipalType::Group, "nope"}, PolicyType::System, "ReadOnlyAccess"),
              "EntityNotExist.Group");
  EXPECT_CODE(iam_->attach_policy(acct, {PrincipalType::User, "bob"}, PolicyType::System, "ReadOnlyAccess"),
              "EntityNotExist.User");
  EXPECT_CODE(iam_->detach_policy(acct, alice, PolicyType::Custom, "c2"), "EntityNotExist.User.Policy");
  EXPECT_CODE(iam_->attach_policy(acct, {PrincipalType::Group, "x"}, PolicyType::Custom, "c1", "rg-nope"),
              "EntityNotExist.Group");
  ASSERT_OK(iam_->create_group(acct, "x"));
  EXPECT_CODE(iam_->attach_policy(acct, {PrincipalType::Group, "x"}, PolicyType::Custom, "c1", "rg-nope"),
              "EntityNotExist.ResourceGroup");
  // The account id as ResourceGroupId means Account scope (as ResourceManager does).
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::Group, "x"}, PolicyType::Custom, "c1", acct));
  auto l = iam_->list_attachments(acct, {PrincipalRef{PrincipalType::Group, "x"}});
  ASSERT_OK(l);
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].resource_group_id, "");
}

TEST_F(IamServiceTest, DefaultAttachmentLimitsAre20And10) {
  std::string acct = new_account();
  ASSERT_OK(iam_->create_group(acct, "ops"));
  PrincipalRef ops{PrincipalType::Group, "ops"};
  for (int i = 0; i < 11; ++i) ASSERT_OK(iam_->create_policy(acct, "c" + std::to_string(i), kDoc));
  for (int i = 0; i < 10; ++i) ASSERT_OK(iam_->attach_policy(acct, ops, PolicyType::Custom, "c" + std::to_string(i)));
  EXPECT_CODE(iam_->attach_policy(acct, ops, PolicyType::Custom, "c10"), "LimitExceeded.Group.Policy");
  // 20 system attachments: the same policy at different resource-group scopes counts each time.
  std::vector<std::string> rgs;
  limits_.resource_groups_per_account = 30;
  for (int i = 0; i < 20; ++i) {
    auto rg = iam_->create_resource_group(acct, "rg-" + std::to_string(i), "");
    ASSERT_OK(rg);
    rgs.push_back(rg->id);
  }
  for (int i = 0; i < 20; ++i) ASSERT_OK(iam_->attach_policy(acct, ops, PolicyType::System, "ReadOnlyAccess", rgs[i]));
  EXPECT_CODE(iam_->attach_policy(acct, ops, PolicyType::System, "ReadOnlyAccess"), "LimitExceeded.Group.Policy");
}

TEST_F(IamServiceTest, ResourceGroups) {
  limits_.resource_groups_per_account = 3;
  reopen();
  std::string acct = new_account();
  auto g1 = iam_->create_resource_group(acct, "prod", "Production");
  ASSERT_OK(g1);
  EXPECT_EQ(g1->id.size(), 18u);
  EXPECT_CODE(iam_->create_resource_group(acct, "prod", ""), "EntityAlreadyExists.ResourceGroup");
  EXPECT_CODE(iam_->create_resource_group(acct, "x", ""), "InvalidParameter.Name.Length");
  auto g2 = iam_->create_resource_group(acct, "test", "");
  ASSERT_OK(g2);
  EXPECT_CODE(iam_->create_resource_group(acct, "more", ""), "LimitExceeded.ResourceGroup");  // default + 2
  EXPECT_EQ(iam_->list_resource_groups(acct)->size(), 3u);
  ResourceRef inst{"mq", "local", "instance", "mqtt-local-abc"};
  ASSERT_OK(iam_->register_resource(acct, inst));
  auto def = iam_->default_resource_group(acct);
  EXPECT_EQ(iam_->resource_group_of(acct, "instance", "mqtt-local-abc"), def->id);
  EXPECT_CODE(iam_->register_resource(acct, inst), "EntityAlreadyExists.Resource");
  ASSERT_OK(iam_->move_resources(acct, g1->id, {inst}));
  EXPECT_EQ(iam_->resource_group_of(acct, "instance", "mqtt-local-abc"), g1->id);
  EXPECT_CODE(iam_->move_resources(acct, "rg-nope", {inst}), "EntityNotExist.ResourceGroup");
  // All or nothing.
  EXPECT_CODE(iam_->move_resources(acct, g2->id, {inst, ResourceRef{"mq", "local", "instance", "ghost"}}),
              "EntityNotExist.Resource");
  EXPECT_EQ(iam_->resource_group_of(acct, "instance", "mqtt-local-abc"), g1->id);
  EXPECT_CODE(iam_->delete_resource_group(acct, g1->id), "DeleteConflict.ResourceGroup.Resource");
  EXPECT_CODE(iam_->delete_resource_group(acct, def->id), "DeleteConflict.ResourceGroup.Default");
  ASSERT_OK(iam_->create_user(acct, {"alice", "", ""}));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "alice"}, PolicyType::System, "ReadOnlyAccess", g2->id));
  EXPECT_CODE(iam_->delete_resource_group(acct, g2->id), "DeleteConflict.ResourceGroup.Attachment");
  EXPECT_EQ(iam_->list_resources(acct, g1->id)->size(), 1u);
  ASSERT_OK(iam_->unregister_resource(acct, "instance", "mqtt-local-abc"));
  EXPECT_EQ(iam_->resource_group_of(acct, "instance", "mqtt-local-abc"), "");
  ASSERT_OK(iam_->delete_resource_group(acct, g1->id));
  EXPECT_CODE(iam_->get_resource_group(acct, g1->id), "EntityNotExist.ResourceGroup");
  ASSERT_OK(iam_->update_resource_group(acct, g2->id, "Testing"));
  EXPECT_EQ(iam_->get_resource_group(acct, g2->id)->display_name, "Testing");
  // Another account's group is not visible.
  std::string other = new_account("other");
  EXPECT_CODE(iam_->get_resource_group(other, g2->id), "EntityNotExist.ResourceGroup");
}

TEST_F(IamServiceTest, RolesAndAssumeRole) {
  std::string acct = new_account();
  EXPECT_CODE(iam_->create_role(acct, "reader", "{}"), "MalformedPolicyDocument");
  EXPECT_CODE(iam_->create_role(acct, "reader", trust_for(acct), "", 100), "InvalidParameter.MaxSessionDuration");
  auto role = iam_->create_role(acct, "Reader", trust_for(acct), "reads", 7200);
  ASSERT_OK(role);
  EXPECT_EQ(role->arn, "acs:ram::" + acct + ":role/reader");
  EXPECT_CODE(iam_->create_role(acct, "reader", trust_for(acct)), "EntityAlreadyExists.Role");
  ASSERT_OK(iam_->create_user(acct, {"alice", "", ""}));
  Principal alice = Principal::user(acct, "alice");
  EXPECT_CODE(iam_->assume_role(alice, role->arn, "s1", 899, std::nullopt), "InvalidParameter.DurationSeconds");
  EXPECT_CODE(iam_->assume_role(alice, role->arn, "s1", 7201, std::nullopt), "InvalidParameter.DurationSeconds");
  EXPECT_CODE(iam_->assume_role(alice, "acs:ram::" + acct + ":role/nope", "s1", std::nullopt, std::nullopt),
              "EntityNotExist.Role");
  EXPECT_CODE(iam_->assume_role(alice, "arn:aws:iam::1:role/x", "s1", std::nullopt, std::nullopt),
              "InvalidParameter.RoleArn");
  EXPECT_CODE(iam_->assume_role(alice, role->arn, "s", std::nullopt, std::nullopt),
              "InvalidParameter.RoleSessionName.Length");
  EXPECT_CODE(iam_->assume_role(alice, role->arn, "s1", std::nullopt, std::string("{bad")),
              "InvalidParameter.PolicyGrammar");
  auto c = iam_->assume_role(alice, role->arn, "s1", std::nullopt, std::nullopt);
  ASSERT_OK(c);
  EXPECT_EQ(c->access_key_id.rfind("STS.", 0), 0u);
  EXPECT_FALSE(c->security_token.empty());
  EXPECT_EQ(c->expiration, g_now + 3600);
  auto info = iam_->lookup_access_key(c->access_key_id);
  ASSERT_OK(info);
  EXPECT_EQ(info->secret, c->access_key_secret);
  EXPECT_EQ(info->security_token, c->security_token);
  EXPECT_EQ(info->principal.kind, Principal::Kind::RoleSession);
  EXPECT_EQ(info->principal.name, "Reader");
  EXPECT_EQ(info->status, KeyStatus::Active);
  g_now += 3600;
  EXPECT_EQ(iam_->lookup_access_key(c->access_key_id)->status, KeyStatus::Inactive);  // expired
  ASSERT_OK(iam_->assume_role(alice, role->arn, "s2", 7200, std::nullopt));
  // Another account is not trusted.
  std::string other = new_account("other");
  ASSERT_OK(iam_->create_user(other, {"mallory", "", ""}));
  auto denied = iam_->assume_role(Principal::user(other, "mallory"), role->arn, "s3", std::nullopt, std::nullopt);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, "NoPermission");
  EXPECT_EQ(denied.error().http_status, 403);
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::Role, "Reader"}, PolicyType::System, "ReadOnlyAccess"));
  EXPECT_CODE(iam_->delete_role(acct, "Reader"), "DeleteConflict.Role.Policy");
}

TEST_F(IamServiceTest, GenerationBumpsOnEveryWrite) {
  std::string acct = new_account();
  uint64_t g = iam_->generation();
  ASSERT_OK(iam_->create_user(acct, {"alice", "", ""}));
  EXPECT_GT(iam_->generation(), g);
  g = iam_->generation();
  EXPECT_CODE(iam_->create_user(acct, {"alice", "", ""}), "EntityAlreadyExists.User");
  EXPECT_EQ(iam_->generation(), g);  // failed writes change nothing
  ASSERT_OK(iam_->get_user(acct, "alice"));
  EXPECT_EQ(iam_->generation(), g);  // reads neither
}

TEST_F(IamServiceTest, EverythingSurvivesReopen) {
  std::string acct = new_account();
  ASSERT_OK(iam_->activate_service(acct, "mq"));
  ASSERT_OK(iam_->create_user(acct, {"alice", "Alice", "hello"}));
  ASSERT_OK(iam_->create_login_profile(acct, "alice", "alice-pass-1"));
  auto k = iam_->create_access_key(acct, std::string("alice"));
  ASSERT_OK(k);
  ASSERT_OK(iam_->create_group(acct, "ops"));
  ASSERT_OK(iam_->add_user_to_group(acct, "ops", "alice"));
  ASSERT_OK(iam_->create_policy(acct, "pub", kDoc));
  ASSERT_OK(iam_->create_policy_version(acct, "pub", kDoc, true));
  auto rg = iam_->create_resource_group(acct, "prod", "");
  ASSERT_OK(rg);
  ASSERT_OK(iam_->register_resource(acct, {"mq", "local", "instance", "mqtt-local-1"}, rg->id));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::Group, "ops"}, PolicyType::Custom, "pub", rg->id));
  auto role = iam_->create_role(acct, "r", trust_for(acct));
  ASSERT_OK(role);
  auto sts = iam_->assume_role(Principal::root(acct), role->arn, "sess", std::nullopt, std::nullopt);
  ASSERT_OK(sts);

  reopen();

  EXPECT_TRUE(*iam_->service_active(acct, "mq"));
  EXPECT_EQ(iam_->get_user(acct, "alice")->comments, "hello");
  ASSERT_OK(iam_->verify_user_login("alice@acme", "alice-pass-1"));
  auto info = iam_->lookup_access_key(k->key.id);
  ASSERT_OK(info);
  EXPECT_EQ(info->secret, k->secret);
  EXPECT_EQ(iam_->list_groups_for_user(acct, "alice")->size(), 1u);
  EXPECT_EQ(iam_->get_policy(acct, PolicyType::Custom, "pub")->default_version, "v2");
  EXPECT_EQ(iam_->resource_group_of(acct, "instance", "mqtt-local-1"), rg->id);
  EXPECT_EQ(iam_->list_attachments(acct)->size(), 1u);
  EXPECT_EQ(iam_->get_role(acct, "r")->arn, role->arn);
  auto s = iam_->lookup_access_key(sts->access_key_id);
  ASSERT_OK(s);
  EXPECT_EQ(s->security_token, sts->security_token);
  // Version ids keep counting after reopen.
  EXPECT_EQ(iam_->create_policy_version(acct, "pub", kDoc, false)->version_id, "v3");
}

TEST_F(IamServiceTest, AccountSummaryAndOpenIdentity) {
  std::string acct = new_account();
  ASSERT_OK(iam_->create_user(acct, {"alice", "", ""}));
  ASSERT_OK(iam_->create_access_key(acct, std::string("alice")));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "alice"}, PolicyType::System, "ReadOnlyAccess"));
  auto s = iam_->account_summary(acct);
  ASSERT_OK(s);
  EXPECT_EQ(s->users, 1u);
  EXPECT_EQ(s->access_keys, 1u);
  EXPECT_EQ(s->resource_groups, 1u);
  EXPECT_EQ(s->attached_system, 1u);
  EXPECT_EQ(s->quotas.users_per_account, 5000u);
  EXPECT_CODE(iam_->account_summary("1111111111111111"), "EntityNotExist.Account");
  // open_identity on the same directory (a second connection) sees the same data.
  sluice::store::StoreOptions o = store_options();
  auto id = open_identity(dir_, {}, o);
  ASSERT_OK(id);
  EXPECT_EQ(id->iam->list_users(acct)->size(), 1u);
  EXPECT_TRUE(id->authorizer->decide(Principal::user(acct, "alice"), "mq:ListMqttInstance",
                                     "acs:mq:local:" + acct + ":instance/x")
                  .allowed());
  o.master_key_b64 = sluice::store::base64_encode(std::string(32, 'w'));
  auto bad = open_identity(dir_, {}, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "StoreUnavailable");
  EXPECT_NE(bad.error().message.find("wrong master key"), std::string::npos);
}
