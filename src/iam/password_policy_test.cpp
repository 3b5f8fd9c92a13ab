// The password policy: defaults, ranges, the check, the JSON round trip.
#include "iam/password_policy.hpp"

#include <gtest/gtest.h>

namespace sluice::iam {
namespace {

TEST(PasswordPolicy, DefaultsAreTheCloudsAndAcceptEightCharacters) {
  PasswordPolicy p;
  EXPECT_EQ(p.minimum_password_length, 8);
  EXPECT_EQ(p.max_login_attempts, 5);
  EXPECT_FALSE(p.violation("abcdefgh"));
  EXPECT_TRUE(p.violation("abcdefg"));
  EXPECT_TRUE(p.violation(std::string(129, 'a')));
}

TEST(PasswordPolicy, EachCharacterClassIsEnforcedAndNamed) {
  PasswordPolicy p;
  p.minimum_password_length = 12;
  p.require_lowercase = p.require_uppercase = p.require_numbers = p.require_symbols = true;
  auto v = p.violation("short");
  ASSERT_TRUE(v);
  EXPECT_NE(v->find("12 characters"), std::string::npos);
  EXPECT_NE(v->find("uppercase"), std::string::npos);
  EXPECT_NE(v->find("digit"), std::string::npos);
  EXPECT_NE(v->find("symbol"), std::string::npos);
  EXPECT_EQ(v->find("lowercase"), std::string::npos);
  EXPECT_TRUE(p.violation("alllowercase12!"));
  EXPECT_TRUE(p.violation("NoDigitsHere!!"));
  EXPECT_TRUE(p.violation("NoSymbols12345"));
  EXPECT_FALSE(p.violation("Good-Passw0rd!"));
}

TEST(PasswordPolicy, RangesAreTheClouds) {
  PasswordPolicy p;
  EXPECT_FALSE(p.invalid_field());
  p.minimum_password_length = 7;
  EXPECT_EQ(p.invalid_field()->first, "MinimumPasswordLength");
  p.minimum_password_length = 33;
  EXPECT_EQ(p.invalid_field()->first, "MinimumPasswordLength");
  p = {};
  p.max_password_age = 1096;
  EXPECT_EQ(p.invalid_field()->first, "MaxPasswordAge");
  p = {};
  p.password_reuse_prevention = 25;
  EXPECT_EQ(p.invalid_field()->first, "PasswordReusePrevention");
  p = {};
  p.max_login_attempts = -1;
  EXPECT_EQ(p.invalid_field()->first, "MaxLoginAttemps");
}

TEST(PasswordPolicy, JsonRoundTripKeepsEveryField) {
  PasswordPolicy p;
  p.minimum_password_length = 14;
  p.require_symbols = true;
  p.hard_expiry = true;
  p.max_password_age = 90;
  p.password_reuse_prevention = 3;
  p.max_login_attempts = 7;
  auto q = PasswordPolicy::from_json(p.to_json());
  EXPECT_EQ(q.to_json(), p.to_json());
  EXPECT_EQ(PasswordPolicy::from_json("not json").to_json(), PasswordPolicy{}.to_json());
  SecurityPreference s;
  s.allow_user_to_manage_access_keys = true;
  s.login_session_duration = 3;
  EXPECT_EQ(SecurityPreference::from_json(s.to_json()).to_json(), s.to_json());
}

}  // namespace
}  // namespace sluice::iam
