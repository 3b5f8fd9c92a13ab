// What the console believes from a reverse proxy: only trusted peers'
// X-Forwarded-Proto and X-Forwarded-For, and of the latter only what the
// trusted hops vouch for.
#include "api/console_proxy.hpp"

#include <gtest/gtest.h>

namespace sluice::api {
namespace {

HttpRequest from(std::string peer, std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpRequest r;
  r.peer = std::move(peer);
  r.headers = std::move(headers);
  return r;
}

TrustedProxies proxies(std::vector<std::string> entries) {
  TrustedProxies t;
  EXPECT_FALSE(TrustedProxies::parse(entries, t).has_value());
  return t;
}

TEST(TrustedProxies, ParseNamesTheBadEntry) {
  TrustedProxies t;
  EXPECT_EQ(TrustedProxies::parse({"10.0.0.1", "fd00::/8", "nonsense"}, t), std::optional<std::string>("nonsense"));
  EXPECT_TRUE(t.empty());
  EXPECT_FALSE(TrustedProxies::parse({" 10.0.0.0/8 ", "::1"}, t).has_value());
  EXPECT_TRUE(t.trusted("10.2.3.4"));
  EXPECT_TRUE(t.trusted("::ffff:10.2.3.4"));
  EXPECT_TRUE(t.trusted("::1"));
  EXPECT_FALSE(t.trusted("11.0.0.1"));
  EXPECT_EQ(split_list(" a, b ,,c "), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(TrustedProxies, NobodyIsBelievedByDefault) {
  TrustedProxies none;
  auto r = from("127.0.0.1", {{"x-forwarded-proto", "https"}, {"x-forwarded-for", "1.2.3.4"}});
  EXPECT_FALSE(none.secure(r));
  EXPECT_EQ(none.client_address(r), "127.0.0.1");
}

TEST(TrustedProxies, SecureOnlyWhenATrustedProxySaysHttps) {
  auto t = proxies({"10.0.0.1"});
  EXPECT_TRUE(t.secure(from("10.0.0.1", {{"x-forwarded-proto", "HTTPS"}})));
  EXPECT_FALSE(t.secure(from("10.0.0.1", {{"x-forwarded-proto", "http"}})));
  EXPECT_FALSE(t.secure(from("10.0.0.1")));
  EXPECT_FALSE(t.secure(from("10.0.0.2", {{"x-forwarded-proto", "https"}})));
  // The nearest proxy's word counts (it is the last value).
  EXPECT_FALSE(t.secure(from("10.0.0.1", {{"x-forwarded-proto", "https, http"}})));
}

TEST(TrustedProxies, ClientIsTheRightmostAddressNotATrustedProxy) {
  auto t = proxies({"10.0.0.0/8"});
  EXPECT_EQ(t.client_address(from("10.0.0.1", {{"x-forwarded-for", "203.0.113.7"}})), "203.0.113.7");
  // Entries written by the client (left of the first untrusted one) are not believed.
  EXPECT_EQ(t.client_address(from("10.0.0.1", {{"x-forwarded-for", "1.1.1.1, 203.0.113.7, 10.0.0.9"}})),
            "203.0.113.7");
  // Two headers are one list, in order.
  EXPECT_EQ(t.client_address(from("10.0.0.1", {{"x-forwarded-for", "1.1.1.1"}, {"x-forwarded-for", "203.0.113.8"}})),
            "203.0.113.8");
  EXPECT_EQ(t.client_address(from("10.0.0.1", {{"x-forwarded-for", "[2001:db8::1]:443"}})), "2001:db8::1");
  EXPECT_EQ(t.client_address(from("10.0.0.1", {{"x-forwarded-for", "198.51.100.1:5555"}})), "198.51.100.1");
  // Garbage: the last hop we trust stands for the client.
  EXPECT_EQ(t.client_address(from("10.0.0.1", {{"x-forwarded-for", "1.1.1.1, not-an-ip"}})), "10.0.0.1");
  EXPECT_EQ(t.client_address(from("10.0.0.1")), "10.0.0.1");
  // Only trusted proxies.
  EXPECT_EQ(t.client_address(from("192.0.2.1", {{"x-forwarded-for", "203.0.113.7"}})), "192.0.2.1");
}

}  // namespace
}  // namespace sluice::api
