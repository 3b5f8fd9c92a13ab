// Encode -> decode round trips for every packet type and version.
#include <gtest/gtest.h>

#include "mqtt/codec.hpp"
#include "mqtt/test_util.hpp"

namespace sluice::mqtt {
namespace {

using test::client;
using test::parse_ok;
using test::server;

class RoundTrip : public ::testing::TestWithParam<Version> {
 protected:
  Version v() const { return GetParam(); }
  bool v5() const { return v() == Version::V5; }
};

INSTANTIATE_TEST_SUITE_P(AllVersions, RoundTrip,
                         ::testing::Values(Version::V3_1, Version::V3_1_1, Version::V5),
                         [](const auto& info) {
                           return info.param == Version::V3_1 ? "V31" : info.param == Version::V3_1_1 ? "V311" : "V5";
                         });

TEST_P(RoundTrip, Connect) {
  Connect c;
  c.version = v();
  c.clean_start = false;
  c.keep_alive = 30;
  c.client_id = "dev-1";
  c.username = "alice";
  c.password = std::string_view("p\0w", 3);
  Will w;
  w.topic = "will/t";
  w.payload = "bye";
  w.qos = 1;
  w.retain = true;
  if (v5()) {
    w.props.will_delay_interval = 10;
    c.props.session_expiry_interval = 3600;
    c.props.receive_maximum = 20;
    c.props.user_properties.push_back({"k", "v"});
  }
  c.will = w;
  std::string buf;
  encode(c, buf);
  Parser p;
  Packet pkt = parse_ok(p, buf);
  ASSERT_TRUE(std::holds_alternative<Connect>(pkt));
  const auto& d = std::get<Connect>(pkt);
  EXPECT_EQ(p.version(), v());
  EXPECT_EQ(d.version, v());
  EXPECT_FALSE(d.clean_start);
  EXPECT_EQ(d.keep_alive, 30);
  EXPECT_EQ(d.client_id, "dev-1");
  EXPECT_EQ(d.username, "alice");
  EXPECT_EQ(d.password, std::string_view("p\0w", 3));
  ASSERT_TRUE(d.will);
  EXPECT_EQ(d.will->topic, "will/t");
  EXPECT_EQ(d.will->payload, "bye");
  EXPECT_EQ(d.will->qos, 1);
  EXPECT_TRUE(d.will->retain);
  if (v5()) {
    EXPECT_EQ(d.will->props.will_delay_interval, 10u);
    EXPECT_EQ(d.props.session_expiry_interval, 3600u);
    EXPECT_EQ(d.props.receive_maximum, 20);
    ASSERT_EQ(d.props.user_properties.size(), 1u);
    EXPECT_EQ(d.props.user_properties[0].key, "k");
  } else {
    EXPECT_TRUE(d.props.empty());
  }
}

TEST_P(RoundTrip, ConnectMinimal) {
  Connect c;
  c.version = v();
  std::string buf;
  encode(c, buf);
  Parser p;
  Packet pkt = parse_ok(p, buf);
  const auto& d = std::get<Connect>(pkt);
  EXPECT_TRUE(d.clean_start);
  EXPECT_EQ(d.client_id, "");
  EXPECT_FALSE(d.will);
  EXPECT_FALSE(d.username);
  EXPECT_FALSE(d.password);
}

TEST_P(RoundTrip, Connack) {
  Connack c;
  c.session_present = true;
  c.reason = Reason::NotAuthorized;
  if (v5()) {
    c.props.maximum_qos = 1;
    c.props.assigned_client_identifier = "auto-1";
    c.props.topic_alias_maximum = 10;
  }
  std::string buf;
  encode(c, v(), buf);
  Parser p = client(v());
  Packet pkt = parse_ok(p, buf);
  const auto& d = std::get<Connack>(pkt);
  EXPECT_EQ(d.session_present, v() != Version::V3_1);
  EXPECT_EQ(d.reason, Reason::NotAuthorized);
  if (v5()) {
    EXPECT_EQ(d.props.maximum_qos, 1);
    EXPECT_EQ(d.props.assigned_client_identifier, "auto-1");
    EXPECT_EQ(d.props.topic_alias_maximum, 10);
  }
}

TEST_P(RoundTrip, PublishBothDirections) {
  for (uint8_t qos = 0; qos < 3; ++qos) {
    Publish m;
    m.topic = "a/b/c";
    m.payload = std::string_view("\x00\x01payload", 9);
    m.qos = qos;
    m.packet_id = qos ? 77 : 0;
    m.retain = true;
    m.dup = qos > 0;
    if (v5()) {
      m.props.message_expiry_interval = 60;
      m.props.response_topic = "reply/here";
      m.props.correlation_data = "corr";
      m.props.content_type = "text/plain";
      m.props.payload_format_indicator = 1;
      m.props.user_properties.push_back({"a", "b"});
      m.props.user_properties.push_back({"a", "c"});
    }
    std::string buf;
    encode(m, v(), buf);
    EXPECT_EQ(buf.size(), encoded_size(m, v()));
    for (bool from_server : {false, true}) {
      Parser p = from_server ? client(v()) : server(v());
      Packet pkt = parse_ok(p, buf);
      const auto& d = std::get<Publish>(pkt);
      EXPECT_EQ(d.topic, "a/b/c");
      EXPECT_EQ(d.payload, m.payload);
      EXPECT_EQ(d.qos, qos);
      EXPECT_EQ(d.packet_id, m.packet_id);
      EXPECT_TRUE(d.retain);
      EXPECT_EQ(d.dup, qos > 0);
      if (v5()) {
        EXPECT_EQ(d.props.message_expiry_interval, 60u);
        EXPECT_EQ(d.props.response_topic, "reply/here");
        EXPECT_EQ(d.props.correlation_data, "corr");
        EXPECT_EQ(d.props.content_type, "text/plain");
        EXPECT_EQ(d.props.payload_format_indicator, 1);
        EXPECT_EQ(d.props.user_properties.size(), 2u);
      } else {
        EXPECT_TRUE(d.props.empty());
      }
    }
  }
}

TEST(RoundTripV5, PublishSubscriptionIdentifiersToClient) {
  Publish m;
  m.topic = "t";
  m.props.subscription_identifiers = {1, 268435455, 300};
  m.props.topic_alias = 3;
  std::string buf;
  encode(m, Version::V5, buf);
  Parser p = client(Version::V5);
  Packet pkt = parse_ok(p, buf);
  const auto& d = std::get<Publish>(pkt);
  EXPECT_EQ(d.props.subscription_identifiers, (std::vector<uint32_t>{1, 268435455, 300}));
  EXPECT_EQ(d.props.topic_alias, 3);
}

TEST_P(RoundTrip, Acks) {
  for (PacketType t : {PacketType::Puback, PacketType::Pubrec, PacketType::Pubrel, PacketType::Pubcomp}) {
    for (int variant = 0; variant < 3; ++variant) {
      Ack a;
      a.type = t;
      a.packet_id = 513;
      if (v5() && variant >= 1)
        a.reason = (t == PacketType::Puback || t == PacketType::Pubrec) ? Reason::NoMatchingSubscribers
                                                                        : Reason::PacketIdentifierNotFound;
      if (v5() && variant == 2) a.props.reason_string = "why";
      std::string buf;
      encode(a, v(), buf);
      if (!v5() || variant == 0) {
        EXPECT_EQ(buf.size(), 4u);
      }
      for (bool from_server : {false, true}) {
        Parser p = from_server ? client(v()) : server(v());
        Packet pkt = parse_ok(p, buf);
        const auto& d = std::get<Ack>(pkt);
        EXPECT_EQ(d.type, t);
        EXPECT_EQ(d.packet_id, 513);
        EXPECT_EQ(d.reason, a.reason);
        EXPECT_EQ(d.props.reason_string, a.props.reason_string);
        EXPECT_EQ(packet_type(pkt), t);
      }
    }
  }
}

TEST_P(RoundTrip, Subscribe) {
  Subscribe s;
  s.packet_id = 9;
  s.subscriptions.push_back({"a/+", {0}});
  Subscription rich{"$share/g/x/#", {2}};
  if (v5()) {
    rich.options.retain_as_published = true;
    rich.options.retain_handling = 2;
    s.subscriptions.push_back({"n/l", {1, true, false, 1}});
    s.props.subscription_identifiers.push_back(42);
  }
  s.subscriptions.push_back(rich);
  std::string buf;
  encode(s, v(), buf);
  Parser p = server(v());
  Packet pkt = parse_ok(p, buf);
  const auto& d = std::get<Subscribe>(pkt);
  EXPECT_EQ(d.packet_id, 9);
  ASSERT_EQ(d.subscriptions.size(), s.subscriptions.size());
  for (size_t i = 0; i < d.subscriptions.size(); ++i) {
    EXPECT_EQ(d.subscriptions[i].filter, s.subscriptions[i].filter);
    EXPECT_EQ(d.subscriptions[i].options.qos, s.subscriptions[i].options.qos);
    EXPECT_EQ(d.subscriptions[i].options.no_local, s.subscriptions[i].options.no_local);
    EXPECT_EQ(d.subscriptions[i].options.retain_as_published, s.subscriptions[i].options.retain_as_published);
    EXPECT_EQ(d.subscriptions[i].options.retain_handling, s.subscriptions[i].options.retain_handling);
  }
  if (v5()) {
    EXPECT_EQ(d.props.subscription_identifiers, std::vector<uint32_t>{42});
  }
}

TEST_P(RoundTrip, Suback) {
  SubAck a;
  a.packet_id = 9;
  a.reasons = {Reason::Success, Reason::GrantedQos2, Reason::UnspecifiedError};
  std::string buf;
  encode(a, v(), buf);
  Parser p = client(v());
  Packet pkt = parse_ok(p, buf);
  const auto& d = std::get<SubAck>(pkt);
  EXPECT_EQ(d.type, PacketType::Suback);
  EXPECT_EQ(d.reasons, a.reasons);
}

TEST_P(RoundTrip, UnsubscribeAndUnsuback) {
  Unsubscribe u;
  u.packet_id = 10;
  u.filters = {"a/b", "c/#"};
  std::string buf;
  encode(u, v(), buf);
  Parser p = server(v());
  Packet pkt = parse_ok(p, buf);
  EXPECT_EQ(std::get<Unsubscribe>(pkt).filters, u.filters);

  SubAck a;
  a.type = PacketType::Unsuback;
  a.packet_id = 10;
  a.reasons = {Reason::Success, Reason::NoSubscriptionExisted};
  buf.clear();
  encode(a, v(), buf);
  if (!v5()) {
    EXPECT_EQ(buf, std::string("\xb0\x02\x00\x0a", 4));
  }
  Parser c = client(v());
  pkt = parse_ok(c, buf);
  const auto& d = std::get<SubAck>(pkt);
  EXPECT_EQ(d.type, PacketType::Unsuback);
  EXPECT_EQ(d.packet_id, 10);
  if (v5()) {
    EXPECT_EQ(d.reasons, a.reasons);
  } else {
    EXPECT_TRUE(d.reasons.empty());
  }
}

TEST_P(RoundTrip, PingAndDisconnect) {
  std::string buf;
  encode_pingreq(buf);
  Parser s = server(v());
  EXPECT_TRUE(std::holds_alternative<Pingreq>(parse_ok(s, buf)));
  buf.clear();
  encode_pingresp(buf);
  Parser c = client(v());
  EXPECT_TRUE(std::holds_alternative<Pingresp>(parse_ok(c, buf)));

  Disconnect d;
  if (v5()) {
    d.reason = Reason::DisconnectWithWill;
    d.props.session_expiry_interval = 0;
  }
  buf.clear();
  encode(d, v(), buf);
  Packet pkt = parse_ok(s, buf);
  EXPECT_EQ(std::get<Disconnect>(pkt).reason, d.reason);
  EXPECT_EQ(std::get<Disconnect>(pkt).props.session_expiry_interval, d.props.session_expiry_interval);
}

TEST(RoundTripV5, DisconnectFromServerAndAuth) {
  Disconnect d;
  d.reason = Reason::UseAnotherServer;
  d.props.server_reference = "other:1883";
  std::string buf;
  encode(d, Version::V5, buf);
  Parser c = client(Version::V5);
  Packet pkt = parse_ok(c, buf);
  EXPECT_EQ(std::get<Disconnect>(pkt).props.server_reference, "other:1883");

  for (bool to_server : {true, false}) {
    Auth a;
    a.reason = Reason::ContinueAuthentication;
    a.props.authentication_method = "SCRAM-SHA-1";
    a.props.authentication_data = std::string_view("\x01\x02", 2);
    buf.clear();
    encode(a, buf);
    Parser p = to_server ? server(Version::V5) : client(Version::V5);
    pkt = parse_ok(p, buf);
    const auto& x = std::get<Auth>(pkt);
    EXPECT_EQ(x.reason, Reason::ContinueAuthentication);
    EXPECT_EQ(x.props.authentication_method, "SCRAM-SHA-1");
    EXPECT_EQ(x.props.authentication_data, std::string_view("\x01\x02", 2));
  }
}

TEST(RoundTripV5, GenericEncodeMatchesTyped) {
  Publish m;
  m.topic = "x";
  m.payload = "y";
  std::string a, b;
  encode(Packet(m), Version::V5, a);
  encode(m, Version::V5, b);
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace sluice::mqtt
