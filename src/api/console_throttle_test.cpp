// The console's sign-in throttle: per address and per login, one login's
// failures never hold back another, and a login's usual address stays open.
#include "api/console_throttle.hpp"

#include <gtest/gtest.h>

namespace sluice::api {
namespace {

TEST(LoginThrottle, PerAddressAcrossLogins) {
  LoginThrottle t({3, 100});
  for (int i = 0; i < 3; ++i) t.failed("10.0.0.1", "login:a" + std::to_string(i), 1000);
  EXPECT_EQ(t.retry_after("10.0.0.1", "login:other", 1010), 50);
  EXPECT_EQ(t.retry_after("10.0.0.2", "login:other", 1010), 0);
  EXPECT_EQ(t.retry_after("10.0.0.1", "login:other", 1060), 0);  // the window has passed
}

TEST(LoginThrottle, PerLoginAcrossAddresses) {
  LoginThrottle t({100, 3});
  for (int i = 0; i < 3; ++i) t.failed("10.0.0." + std::to_string(i), "root:1", 1000);
  EXPECT_EQ(t.retry_after("10.9.9.9", "root:1", 1001), 59);
  // Another login from the same addresses is not held back.
  EXPECT_EQ(t.retry_after("10.0.0.1", "root:2", 1001), 0);
}

TEST(LoginThrottle, AKnownAddressOfALoginIsNotHeldBackByThatLoginsWindow) {
  LoginThrottle t({5, 3});
  t.succeeded("10.0.0.1", "user:1:alice", 900);
  for (int i = 0; i < 5; ++i) t.failed("10.1.0." + std::to_string(i), "user:1:alice", 1000);
  EXPECT_GT(t.retry_after("10.2.0.1", "user:1:alice", 1001), 0);
  EXPECT_EQ(t.retry_after("10.0.0.1", "user:1:alice", 1001), 0);
  // Not for another login, and not from its own address window.
  for (int i = 0; i < 5; ++i) t.failed("10.0.0.1", "login:x" + std::to_string(i), 1002);
  EXPECT_GT(t.retry_after("10.0.0.1", "user:1:alice", 1003), 0);
  // The exemption lapses after 30 days.
  LoginThrottle u({5, 3});
  u.succeeded("10.0.0.1", "user:1:alice", 0);
  for (int i = 0; i < 3; ++i) u.failed("10.1.0." + std::to_string(i), "user:1:alice", LoginThrottle::kKnownAddressSeconds);
  EXPECT_GT(u.retry_after("10.0.0.1", "user:1:alice", LoginThrottle::kKnownAddressSeconds + 1), 0);
}

TEST(LoginThrottle, MemoryStaysBoundedUnderASpray) {
  LoginThrottle t({1000, 1000});
  for (size_t i = 0; i < LoginThrottle::kMaxEntries + 10; ++i)
    t.failed("a" + std::to_string(i), "l" + std::to_string(i), static_cast<int64_t>(i / 1000));
  t.failed("z", "victim", 200);
  EXPECT_EQ(t.retry_after("z", "victim", 200), 0);  // still answers, and counts on
}

}  // namespace
}  // namespace sluice::api
