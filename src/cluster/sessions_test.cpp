#include "cluster/sessions.hpp"

#include <gtest/gtest.h>

using namespace sluice;
using namespace sluice::cluster;

namespace {
StoredSession sample() {
  StoredSession s;
  s.owner = "n1";
  s.expiry_s = 300;
  s.position = 41;
  broker::SubOptions o;
  o.qos = 1;
  s.subscriptions = {{"$share/g/a/+", o}, {"b/#", o}};
  s.origins = {{"n1", 7}};
  return s;
}
}  // namespace

// What a move carries besides subscriptions and position: the share of shared
// subscriptions (as runs), incoming QoS 2 ids, PUBREC'd outgoing messages.
TEST(StoredSession, HandOverListsRoundTrip) {
  StoredSession s = sample();
  s.shared = {3, 4, 5, 9, 1000000, 1000001};
  s.incoming_qos2 = {7, 65535};
  s.pubrecd = {{50, 1}, {51, 300}};
  s.sent = {{52, 301}, {60, 65535}};
  const std::string v = s.encode();
  EXPECT_NE(v.find("U 2 52 301 60 65535\n"), std::string::npos) << v;
  EXPECT_NE(v.find("H 3 3 3 4 1 999991 2\n"), std::string::npos) << v;
  auto d = StoredSession::decode(v);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->shared, s.shared);
  EXPECT_EQ(d->incoming_qos2, s.incoming_qos2);
  EXPECT_EQ(d->pubrecd, s.pubrecd);
  EXPECT_EQ(d->sent, s.sent);
  EXPECT_EQ(d->origins, s.origins);
  EXPECT_EQ(d->position, 41u);
  ASSERT_EQ(d->subscriptions.size(), 2u);
  EXPECT_FALSE(d->subscriptions[0].second.shared);
}

TEST(StoredSession, WithoutHandOverListsAsBefore) {
  StoredSession s = sample();
  s.origins.clear();
  const std::string v = s.encode();
  EXPECT_EQ(v.find("\nH "), std::string::npos);
  auto d = StoredSession::decode(v);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->shared.empty() && d->incoming_qos2.empty() && d->pubrecd.empty() && d->sent.empty());
}

TEST(StoredSession, CorruptListsAreRefused) {
  const std::string base = sample().encode();
  EXPECT_FALSE(StoredSession::decode(base + "H 1 5 0\n"));         // an empty run
  EXPECT_FALSE(StoredSession::decode(base + "H 1 5 99999999\n"));  // past the bound
  EXPECT_FALSE(StoredSession::decode(base + "I 2 7\n"));           // fewer ids than said
  EXPECT_FALSE(StoredSession::decode(base + "R 1 50\n"));
  EXPECT_FALSE(StoredSession::decode(base + "U 2 52 301 60\n"));  // a sent message without its id
}

// A survivor's release of a dead holder's entry says so, with the frontier the
// holder had written: a resume recomputes the share after it.
TEST(StoredSession, FrontierAndDeathRoundTrip) {
  StoredSession s = sample();
  s.sent = {{52, 301}};
  s.frontier = 977;
  s.dead = true;
  const std::string v = s.encode();
  EXPECT_NE(v.find("U 1 52 301\nF 977 1\n"), std::string::npos) << v;
  auto d = StoredSession::decode(v);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->frontier, 977u);
  EXPECT_TRUE(d->dead);
  EXPECT_EQ(d->sent, s.sent);
  auto older = StoredSession::decode(sample().encode());  // an older node's entry: none
  ASSERT_TRUE(older);
  EXPECT_EQ(older->frontier, 0u);
  EXPECT_FALSE(older->dead);
  const std::string base = sample().encode();
  EXPECT_FALSE(StoredSession::decode(base + "F 12\n"));    // without its flag
  EXPECT_FALSE(StoredSession::decode(base + "F 12 2\n"));  // a flag is 0 or 1
}
