// Role trust policies (issue #14, finding 12): a principal whose account is a
// wildcard and a Condition are refused when written; a trust policy stored before
// that (written straight into the store here) never admits another account
// through a wildcard, and its conditional Allow admits nobody.
#include <gtest/gtest.h>

#include "iam/test_util.hpp"

namespace sluice::iam {
namespace {

using testing::IamFixture;

std::string trust(const std::string& principals, const std::string& extra = "") {
  return R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":[)" + principals +
         "]}" + extra + "}]}";
}

class TrustTest : public IamFixture {
 protected:
  void SetUp() override {
    IamFixture::SetUp();
    acct = new_account("acme");
    other = new_account("other");
  }
  // What a store written before the fix may hold.
  void store_trust(const std::string& role, const std::string& doc) {
    std::lock_guard lk(iam_->store().mutex());
    iam_->store().db().run("UPDATE roles SET trust_policy = ? WHERE account_id = ? AND name = ?", doc, acct, role);
  }
  std::string acct, other;
};

TEST_F(TrustTest, WildcardAccountsAndConditionsAreRefused) {
  for (const char* p : {R"("*")", R"("acs:ram::*:root")", R"("acs:ram::*:user/alice")", R"("acs:ram::12?4:root")",
                        R"("acs:ram:::root")", R"("12*")"})
    EXPECT_CODE(iam_->create_role(acct, "open", trust(p)), "MalformedPolicyDocument");
  // A Condition on anything but sts:ExternalId (issue 21: that one is evaluated) is refused.
  for (const char* c : {R"(,"Condition":{"StringEquals":{"acs:SourceIp":"x"}})",
                        R"(,"Condition":{"Bool":{"acs:MFAPresent":"true"}})",
                        R"(,"Condition":{"StringNotEquals":{"sts:ExternalId":"x"}})",
                        R"(,"Condition":{"StringEquals":{"sts:ExternalId":"x","acs:SourceIp":"y"}})",
                        R"(,"Condition":{})"})
    EXPECT_CODE(iam_->create_role(acct, "cond", trust("\"acs:ram::" + acct + ":root\"", c)), "MalformedPolicyDocument");
  // Wildcards below a named account are fine: every user of that account.
  ASSERT_OK(iam_->create_role(acct, "users", trust("\"acs:ram::" + acct + ":user/*\"")));
  EXPECT_CODE(iam_->update_role(acct, "users", trust(R"("*")"), std::nullopt), "MalformedPolicyDocument");
}

TEST_F(TrustTest, StoredWildcardAdmitsOnlyTheRolesOwnAccount) {
  auto role = iam_->create_role(acct, "legacy", trust("\"acs:ram::" + acct + ":root\""));
  ASSERT_OK(role);
  store_trust("legacy", trust(R"("*")"));
  EXPECT_CODE(iam_->assume_role(Principal::root(other), role->arn, "s1", 900, std::nullopt), "NoPermission");
  ASSERT_OK(iam_->assume_role(Principal::root(acct), role->arn, "s2", 900, std::nullopt));
  store_trust("legacy", trust(R"("acs:ram::*:root")"));
  EXPECT_CODE(iam_->assume_role(Principal::root(other), role->arn, "s3", 900, std::nullopt), "NoPermission");
}

TEST_F(TrustTest, StoredConditionAllowsNobodyAndItsDenyStillDenies) {
  auto role = iam_->create_role(acct, "legacy", trust("\"acs:ram::" + acct + ":root\""));
  ASSERT_OK(role);
  store_trust("legacy", trust("\"acs:ram::" + acct + ":root\"", R"(,"Condition":{"Bool":{"acs:MFAPresent":"true"}})"));
  EXPECT_CODE(iam_->assume_role(Principal::root(acct), role->arn, "s1", 900, std::nullopt), "NoPermission");
  store_trust("legacy", R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::)" +
                            acct + R"(:root"]}},{"Effect":"Deny","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::)" +
                            acct + R"(:root"]},"Condition":{"Bool":{"acs:MFAPresent":"false"}}}]})");
  EXPECT_CODE(iam_->assume_role(Principal::root(acct), role->arn, "s2", 900, std::nullopt), "NoPermission");
}

// Issue 21: AssumeRole's ExternalId against the trust policy's sts:ExternalId.
TEST_F(TrustTest, ExternalIdConditionIsEvaluated) {
  auto role = iam_->create_role(acct, "ext", trust("\"acs:ram::" + acct + ":root\"",
                                                   R"(,"Condition":{"StringEquals":{"sts:ExternalId":["abc","def"]}})"));
  ASSERT_OK(role);
  auto assume = [&](std::optional<std::string> ext, const char* session) {
    AssumeRoleOptions o;
    o.duration_seconds = 900;
    o.external_id = std::move(ext);
    return iam_->assume_role(Principal::root(acct), role->arn, session, o);
  };
  EXPECT_CODE(assume(std::nullopt, "s1"), "NoPermission");
  EXPECT_CODE(assume("abd", "s2"), "NoPermission");
  ASSERT_OK(assume("abc", "s3"));
  ASSERT_OK(assume("def", "s4"));
  // StringLike; and a Deny whose condition holds denies, one whose condition fails does not.
  ASSERT_OK(iam_->create_role(acct, "like", trust("\"acs:ram::" + acct + ":root\"",
                                                  R"(,"Condition":{"StringLike":{"sts:ExternalId":"tenant-*"}})")));
  AssumeRoleOptions o;
  o.external_id = "tenant-42";
  ASSERT_OK(iam_->assume_role(Principal::root(acct), "acs:ram::" + acct + ":role/like", "s5", o));
  o.external_id = "other-42";
  EXPECT_CODE(iam_->assume_role(Principal::root(acct), "acs:ram::" + acct + ":role/like", "s6", o), "NoPermission");
  const std::string deny = R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::)" +
                           acct + R"(:root"]}},{"Effect":"Deny","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::)" +
                           acct + R"(:root"]},"Condition":{"StringEquals":{"sts:ExternalId":"blocked"}}}]})";
  ASSERT_OK(iam_->create_role(acct, "deny", deny));
  o.external_id = "fine";
  ASSERT_OK(iam_->assume_role(Principal::root(acct), "acs:ram::" + acct + ":role/deny", "s7", o));
  o.external_id = "blocked";
  EXPECT_CODE(iam_->assume_role(Principal::root(acct), "acs:ram::" + acct + ":role/deny", "s8", o), "NoPermission");
  o.external_id = "x";  // shorter than the cloud's 2 characters
  EXPECT_CODE(iam_->assume_role(Principal::root(acct), role->arn, "s9", o), "InvalidParameter.ExternalId.Length");
}

TEST_F(TrustTest, SourceIdentityIsKeptWithTheSession) {
  auto role = iam_->create_role(acct, "src", trust("\"acs:ram::" + acct + ":root\""));
  ASSERT_OK(role);
  AssumeRoleOptions o;
  o.source_identity = "alice@corp";
  auto c = iam_->assume_role(Principal::root(acct), role->arn, "s1", o);
  ASSERT_OK(c);
  EXPECT_EQ(c->source_identity, "alice@corp");
  EXPECT_EQ(iam_->get_sts_session(c->access_key_id)->source_identity, "alice@corp");
}

TEST_F(TrustTest, ForeignAccountsOfATrustPolicy) {
  EXPECT_EQ(trusted_foreign_accounts(acct, trust("\"acs:ram::" + acct + ":root\"")), std::vector<std::string>{});
  EXPECT_EQ(trusted_foreign_accounts(acct, trust("\"acs:ram::" + other + ":root\",\"acs:ram::" + other +
                                                 ":user/bob\",\"1234567890123456\"")),
            (std::vector<std::string>{other, "1234567890123456"}));
  EXPECT_EQ(trusted_foreign_accounts(acct, "not json"), std::vector<std::string>{});
}

TEST_F(TrustTest, UpdateRoleSetsTheDescription) {
  ASSERT_OK(iam_->create_role(acct, "r", trust("\"acs:ram::" + acct + ":root\""), "old"));
  auto r = iam_->update_role(acct, "r", std::nullopt, std::nullopt, std::string("new"));
  ASSERT_OK(r);
  EXPECT_EQ(r->description, "new");
  EXPECT_CODE(iam_->update_role(acct, "r", std::nullopt, std::nullopt, std::string(1025, 'x')),
              "InvalidParameter.NewDescription.Length");
}

TEST_F(TrustTest, DetachFromAnUnknownGroupNamesTheGroup) {
  ASSERT_OK(iam_->create_user(acct, {"u", "", ""}));
  ASSERT_OK(iam_->attach_policy(acct, {PrincipalType::User, "u"}, PolicyType::System, "AliyunMQReadOnlyAccess"));
  EXPECT_CODE(iam_->detach_policy(acct, {PrincipalType::User, "u"}, PolicyType::System, "AliyunMQReadOnlyAccess", "rg-nope"),
              "EntityNotExist.ResourceGroup");
  EXPECT_EQ(iam_->list_attachments(acct)->size(), 1u);
}

}  // namespace
}  // namespace sluice::iam
