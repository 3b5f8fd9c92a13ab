// The account alias (iam_alias.cpp): the cloud's rule, unique across accounts
// (and never another account's id), the default the account id, and every
// spelling of a RAM user's sign-in name (<user>@<alias>[.onaliyun.com], the
// account-id forms) naming the same user, another account's never.
#include "iam/test_util.hpp"

namespace sluice::iam {
namespace {

using namespace sluice::iam::testing;

class IamAliasTest : public IamFixture {
 protected:
  void SetUp() override {
    IamFixture::SetUp();
    acct_ = new_account();
    other_ = new_account("other");
    ASSERT_TRUE(iam_->create_user(acct_, UserInput{"carol", "", ""}).ok());
    ASSERT_TRUE(iam_->create_login_profile(acct_, "carol", "carol-password-1", false).ok());
  }
  std::string alias(const std::string& a) { return iam_->get_account(a)->alias; }
  std::string acct_, other_;
};

TEST_F(IamAliasTest, NoAliasGivenMeansTheAccountId) {
  auto a = iam_->create_account("dora@example.com", "", "password-123");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->alias, a->id);
  EXPECT_EQ(alias(a->id), a->id);
}

TEST_F(IamAliasTest, SetFollowsTheCloudsRuleAndIsUnique) {
  ASSERT_TRUE(iam_->set_account_alias(acct_, "acme-corp").ok());
  EXPECT_EQ(alias(acct_), "acme-corp");
  EXPECT_CODE(iam_->set_account_alias(acct_, "ab"), "InvalidParameter.AccountAlias.Length");
  EXPECT_CODE(iam_->set_account_alias(acct_, std::string(33, 'a')), "InvalidParameter.AccountAlias.Length");
  EXPECT_CODE(iam_->set_account_alias(acct_, "Acme"), "InvalidParameter.AccountAlias.InvalidChars");
  EXPECT_CODE(iam_->set_account_alias(acct_, "-acme"), "InvalidParameter.AccountAlias.InvalidChars");
  EXPECT_CODE(iam_->set_account_alias(acct_, "acme-"), "InvalidParameter.AccountAlias.InvalidChars");
  EXPECT_CODE(iam_->set_account_alias(acct_, "other"), "EntityAlreadyExists.AccountAlias");
  EXPECT_CODE(iam_->set_account_alias(acct_, other_), "EntityAlreadyExists.AccountAlias");
  EXPECT_CODE(iam_->set_account_alias(acct_, "other@example.com"), "InvalidParameter.AccountAlias.InvalidChars");
  EXPECT_EQ(alias(acct_), "acme-corp");
  ASSERT_TRUE(iam_->set_account_alias(acct_, "acme-corp").ok()) << "setting the same alias again is fine";
  EXPECT_CODE(iam_->set_account_alias("1234567890123456", "nobody-here"), "EntityNotExist.Account");
}

TEST_F(IamAliasTest, ClearRestoresTheAccountId) {
  ASSERT_TRUE(iam_->set_account_alias(acct_, "acme-corp").ok());
  ASSERT_TRUE(iam_->clear_account_alias(acct_).ok());
  EXPECT_EQ(alias(acct_), acct_);
  // The dropped alias is free for another account.
  ASSERT_TRUE(iam_->set_account_alias(other_, "acme-corp").ok());
}

TEST_F(IamAliasTest, EverySpellingOfTheSignInNameAndNoOther) {
  ASSERT_TRUE(iam_->set_account_alias(acct_, "acme-corp").ok());
  for (const std::string& login : std::vector<std::string>{"carol@acme-corp.onaliyun.com", "carol@acme-corp", "carol@ACME-CORP.OnAliyun.com",
                                  "carol@" + acct_, "carol@" + acct_ + ".onaliyun.com"}) {
    auto s = iam_->console_sign_in(login, "carol-password-1");
    ASSERT_TRUE(s.ok()) << login << ": " << s.error().message;
    EXPECT_EQ(s->principal.account_id, acct_) << login;
    EXPECT_EQ(iam_->console_login_key(login), "user:" + acct_ + ":carol") << login;
    EXPECT_EQ(iam_->account_of_login(login), acct_) << login;
  }
  for (const std::string& login : std::vector<std::string>{"carol@acme", "carol@other", "carol@other.onaliyun.com", "carol@" + other_,
                                   "carol@acme-corp.onaliyun.com.evil", "carol@.onaliyun.com"})
    EXPECT_CODE(iam_->console_sign_in(login, "carol-password-1"), "InvalidLogin");
  EXPECT_EQ(iam_->account_of_suffix("acme-corp.onaliyun.com"), acct_);
  EXPECT_EQ(iam_->account_of_suffix(acct_), acct_);
  EXPECT_EQ(iam_->account_of_suffix("other"), other_);
  EXPECT_EQ(iam_->account_of_suffix("nobody.onaliyun.com"), std::nullopt);
  EXPECT_EQ(iam_->account_of_suffix(""), std::nullopt);
}

}  // namespace
}  // namespace sluice::iam
