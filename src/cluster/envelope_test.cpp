#include "cluster/envelope.hpp"

#include <gtest/gtest.h>

#include "persist/message_codec.hpp"

using namespace sluice;
using namespace sluice::cluster;

namespace {
broker::Message sample() {
  broker::Message m;
  m.topic = "a/b";
  m.payload = std::string("x\0y", 3);
  m.qos = 1;
  m.user_properties = {{"k", "v"}};
  return m;
}
}  // namespace

TEST(Envelope, RoundTrip) {
  const std::string node = "node-a", ns = "mqtt-local-1";
  const std::string data = seal_message(Envelope{node, 1ull << 40, ns, 300, 0xFFFFFFFFFFFFFFFFull}, sample());
  auto o = open_message(data, {});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->envelope.node, node);
  EXPECT_EQ(o->envelope.id, 1ull << 40);
  EXPECT_EQ(o->envelope.ns, ns);
  EXPECT_EQ(o->envelope.origin, 300u);
  EXPECT_EQ(o->envelope.route_key, 0xFFFFFFFFFFFFFFFFull);
  EXPECT_EQ(o->message->topic, "a/b");
  EXPECT_EQ(o->message->payload, std::string("x\0y", 3));
  EXPECT_EQ(o->message->qos, 1);
  ASSERT_EQ(o->message->user_properties.size(), 1u);
}

// A stream outlives an upgrade: what nodes logged with headers still reads.
TEST(Envelope, ReadsTheHeaderFormatOfEarlierNodes) {
  const std::string data = persist::encode_message(sample());
  const std::map<std::string, std::string> h{
      {"Sl-N", "old"}, {"Sl-I", "7"}, {"Sl-Ns", "ns1"}, {"Sl-O", "12"}, {"Sl-K", "99"}};
  auto o = open_message(data, h);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->envelope.node, "old");
  EXPECT_EQ(o->envelope.id, 7u);
  EXPECT_EQ(o->envelope.ns, "ns1");
  EXPECT_EQ(o->envelope.origin, 12u);
  EXPECT_EQ(o->envelope.route_key, 99u);
  EXPECT_EQ(o->message->topic, "a/b");
}

// Every truncation of a sealed message is refused, never read past its end.
TEST(Envelope, DamagedPayloadsAreRefused) {
  const std::string data = seal_message(Envelope{"n", 5, "ns", 1, 2}, sample());
  for (size_t n = 0; n < data.size(); ++n) EXPECT_FALSE(open_message(data.substr(0, n), {})) << n;
  EXPECT_FALSE(open_message(std::string("\xE1\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 11), {}));
  EXPECT_FALSE(open_message("", {}));
}
