// Console sign-in state (iam_console.cpp): the login generation that console
// sessions are bound to moves on every password / login profile change, dies
// with its user, and is read with the password hash at sign-in.
#include "iam/test_util.hpp"

namespace sluice::iam {
namespace {

using namespace sluice::iam::testing;

class IamConsoleTest : public IamFixture {
 protected:
  void SetUp() override {
    IamFixture::SetUp();
    acct_ = new_account();
  }
  std::string make_user(const std::string& name) {
    auto u = iam_->create_user(acct_, UserInput{name, "", ""});
    EXPECT_TRUE(u.ok());
    return u.ok() ? u->user_id : "";
  }
  int64_t generation(const std::string& user_id) {
    auto st = iam_->console_standing(acct_, user_id);
    EXPECT_TRUE(st.ok()) << st.error().code;
    return st.ok() ? st->generation : -1;
  }
  std::string acct_;
};

TEST_F(IamConsoleTest, LoginGenerationMovesOnEveryLoginProfileChange) {
  const std::string id = make_user("alice");
  EXPECT_CODE(iam_->console_standing(acct_, id), "EntityNotExist.User.LoginProfile");
  auto p = iam_->create_login_profile(acct_, "alice", "alice-password-1");
  ASSERT_TRUE(p.ok());
  const int64_t g1 = generation(id);
  EXPECT_EQ(p->generation, g1);
  EXPECT_EQ(iam_->get_login_profile(acct_, "alice")->generation, g1);
  auto reset = iam_->update_login_profile(acct_, "alice", std::string("alice-password-2"), std::nullopt, std::nullopt);
  ASSERT_TRUE(reset.ok());
  EXPECT_GT(reset->generation, g1);
  EXPECT_EQ(generation(id), reset->generation);
  // An update without a password moves it too (PasswordResetRequired set by an administrator).
  auto flag = iam_->update_login_profile(acct_, "alice", std::nullopt, true, std::nullopt);
  ASSERT_TRUE(flag.ok());
  EXPECT_GT(flag->generation, reset->generation);
  ASSERT_TRUE(iam_->delete_login_profile(acct_, "alice").ok());
  EXPECT_CODE(iam_->console_standing(acct_, id), "EntityNotExist.User.LoginProfile");
  // Re-created with the same password: still a new generation, so no old session revives.
  auto again = iam_->create_login_profile(acct_, "alice", "alice-password-2");
  ASSERT_TRUE(again.ok());
  EXPECT_GT(again->generation, flag->generation);
  // A failed write moves nothing.
  EXPECT_FALSE(iam_->update_login_profile(acct_, "alice", std::string("short"), std::nullopt, std::nullopt).ok());
  EXPECT_EQ(generation(id), again->generation);
}

TEST_F(IamConsoleTest, StandingFollowsTheUserIdNotTheName) {
  const std::string id = make_user("bob");
  ASSERT_TRUE(iam_->create_login_profile(acct_, "bob", "bob-password-1").ok());
  const int64_t g = generation(id);
  ASSERT_TRUE(iam_->update_user(acct_, "bob", std::string("robert"), std::nullopt, std::nullopt).ok());
  auto st = iam_->console_standing(acct_, id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->name, "robert");
  EXPECT_EQ(st->generation, g);  // a rename is not a login change
  ASSERT_TRUE(iam_->delete_user(acct_, "robert").ok());
  EXPECT_CODE(iam_->console_standing(acct_, id), "EntityNotExist.User");
  const std::string id2 = make_user("robert");
  EXPECT_NE(id2, id);
  ASSERT_TRUE(iam_->create_login_profile(acct_, "robert", "bob-password-1").ok());
  EXPECT_CODE(iam_->console_standing(acct_, id), "EntityNotExist.User");
  // The old user's counter went with it (no leftover meta rows).
  auto left = iam_->store().db().query("SELECT COUNT(*) FROM meta WHERE key = ?", "login_generation:user:" + id);
  left.step();
  EXPECT_EQ(left.int64(0), 0);
}

TEST_F(IamConsoleTest, SignInReturnsTheUserIdAndGeneration) {
  const std::string id = make_user("carol");
  ASSERT_TRUE(iam_->create_login_profile(acct_, "carol", "carol-password-1", true).ok());
  auto s = iam_->console_sign_in("carol@acme", "carol-password-1");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->principal.kind, Principal::Kind::User);
  EXPECT_EQ(s->principal.name, "carol");
  EXPECT_EQ(s->user_id, id);
  EXPECT_TRUE(s->must_change_password);
  EXPECT_EQ(s->generation, generation(id));
  EXPECT_CODE(iam_->console_sign_in("carol@acme", "carol-password-2"), "InvalidLogin");
  EXPECT_CODE(iam_->console_sign_in("nobody@acme", "carol-password-1"), "InvalidLogin");
  EXPECT_CODE(iam_->console_sign_in("carol@elsewhere", "carol-password-1"), "InvalidLogin");

  // Root, by login name or alias; its generation moves with its password.
  auto r = iam_->console_sign_in("acme", "password-123");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->principal.kind, Principal::Kind::Root);
  EXPECT_TRUE(r->user_id.empty());
  EXPECT_EQ(r->display_name, "acme@example.com");
  ASSERT_TRUE(iam_->console_sign_in("acme@example.com", "password-123").ok());
  auto g = iam_->set_root_password(acct_, "password-456");
  ASSERT_TRUE(g.ok());
  EXPECT_GT(*g, r->generation);
  EXPECT_EQ(iam_->console_standing(acct_, "")->generation, *g);
  EXPECT_CODE(iam_->console_sign_in("acme", "password-123"), "InvalidLogin");
}

TEST_F(IamConsoleTest, OneThrottleKeyPerLoginWhateverItsSpelling) {
  EXPECT_EQ(iam_->console_login_key("acme"), "root:" + acct_);
  EXPECT_EQ(iam_->console_login_key("acme@example.com"), "root:" + acct_);
  EXPECT_EQ(iam_->console_login_key("dave@acme"), "user:" + acct_ + ":dave");  // whether or not dave exists
  EXPECT_EQ(iam_->console_login_key("dave@nowhere"), "login:dave@nowhere");
  EXPECT_EQ(iam_->console_login_key("nowhere"), "login:nowhere");
}

}  // namespace
}  // namespace sluice::iam
