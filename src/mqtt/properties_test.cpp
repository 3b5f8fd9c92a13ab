// Every MQTT 5 property, in every packet that allows it, survives a round trip;
// and the byte layout of a property block matches the spec.
#include <gtest/gtest.h>

#include "mqtt/codec.hpp"
#include "mqtt/test_util.hpp"

namespace sluice::mqtt {
namespace {

using test::client;
using test::hex;
using test::parse_ok;
using test::server;
using namespace std::string_literals;

// All properties, each with a distinct value.
Properties all_properties() {
  Properties p;
  p.payload_format_indicator = 1;
  p.message_expiry_interval = 0x01020304;
  p.content_type = "ct";
  p.response_topic = "resp/t";
  p.correlation_data = std::string_view("\x00\xff", 2);
  p.subscription_identifiers = {5, 70000};
  p.session_expiry_interval = 0xffffffff;
  p.assigned_client_identifier = "assigned";
  p.server_keep_alive = 45;
  p.authentication_method = "m";
  p.authentication_data = "d";
  p.request_problem_information = 0;
  p.will_delay_interval = 7;
  p.request_response_information = 1;
  p.response_information = "ri";
  p.server_reference = "sr";
  p.reason_string = "rs";
  p.receive_maximum = 65535;
  p.topic_alias_maximum = 0;
  p.topic_alias = 2;
  p.maximum_qos = 0;
  p.retain_available = 1;
  p.user_properties = {{"k1", "v1"}, {"k1", "v2"}};
  p.maximum_packet_size = 1;
  p.wildcard_subscription_available = 0;
  p.subscription_identifier_available = 1;
  p.shared_subscription_available = 0;
  return p;
}

// `p` with only the identifiers in `ids` kept.
Properties only(std::initializer_list<int> ids) {
  const Properties a = all_properties();
  Properties p;
  for (int id : ids) {
    switch (id) {
      case 0x01: p.payload_format_indicator = a.payload_format_indicator; break;
      case 0x02: p.message_expiry_interval = a.message_expiry_interval; break;
      case 0x03: p.content_type = a.content_type; break;
      case 0x08: p.response_topic = a.response_topic; break;
      case 0x09: p.correlation_data = a.correlation_data; break;
      case 0x0B: p.subscription_identifiers = a.subscription_identifiers; break;
      case 0x11: p.session_expiry_interval = a.session_expiry_interval; break;
      case 0x12: p.assigned_client_identifier = a.assigned_client_identifier; break;
      case 0x13: p.server_keep_alive = a.server_keep_alive; break;
      case 0x15: p.authentication_method = a.authentication_method; break;
      case 0x16: p.authentication_data = a.authentication_data; break;
      case 0x17: p.request_problem_information = a.request_problem_information; break;
      case 0x18: p.will_delay_interval = a.will_delay_interval; break;
      case 0x19: p.request_response_information = a.request_response_information; break;
      case 0x1A: p.response_information = a.response_information; break;
      case 0x1C: p.server_reference = a.server_reference; break;
      case 0x1F: p.reason_string = a.reason_string; break;
      case 0x21: p.receive_maximum = a.receive_maximum; break;
      case 0x22: p.topic_alias_maximum = a.topic_alias_maximum; break;
      case 0x23: p.topic_alias = a.topic_alias; break;
      case 0x24: p.maximum_qos = a.maximum_qos; break;
      case 0x25: p.retain_available = a.retain_available; break;
      case 0x26: p.user_properties = a.user_properties; break;
      case 0x27: p.maximum_packet_size = a.maximum_packet_size; break;
      case 0x28: p.wildcard_subscription_available = a.wildcard_subscription_available; break;
      case 0x29: p.subscription_identifier_available = a.subscription_identifier_available; break;
      case 0x2A: p.shared_subscription_available = a.shared_subscription_available; break;
    }
  }
  return p;
}

void expect_same(const Properties& a, const Properties& b) {
  EXPECT_EQ(a.payload_format_indicator, b.payload_format_indicator);
  EXPECT_EQ(a.message_expiry_interval, b.message_expiry_interval);
  EXPECT_EQ(a.content_type, b.content_type);
  EXPECT_EQ(a.response_topic, b.response_topic);
  EXPECT_EQ(a.correlation_data, b.correlation_data);
  EXPECT_EQ(a.subscription_identifiers, b.subscription_identifiers);
  EXPECT_EQ(a.session_expiry_interval, b.session_expiry_interval);
  EXPECT_EQ(a.assigned_client_identifier, b.assigned_client_identifier);
  EXPECT_EQ(a.server_keep_alive, b.server_keep_alive);
  EXPECT_EQ(a.authentication_method, b.authentication_method);
  EXPECT_EQ(a.authentication_data, b.authentication_data);
  EXPECT_EQ(a.request_problem_information, b.request_problem_information);
  EXPECT_EQ(a.will_delay_interval, b.will_delay_interval);
  EXPECT_EQ(a.request_response_information, b.request_response_information);
  EXPECT_EQ(a.response_information, b.response_information);
  EXPECT_EQ(a.server_reference, b.server_reference);
  EXPECT_EQ(a.reason_string, b.reason_string);
  EXPECT_EQ(a.receive_maximum, b.receive_maximum);
  EXPECT_EQ(a.topic_alias_maximum, b.topic_alias_maximum);
  EXPECT_EQ(a.topic_alias, b.topic_alias);
  EXPECT_EQ(a.maximum_qos, b.maximum_qos);
  EXPECT_EQ(a.retain_available, b.retain_available);
  ASSERT_EQ(a.user_properties.size(), b.user_properties.size());
  for (size_t i = 0; i < a.user_properties.size(); ++i) {
    EXPECT_EQ(a.user_properties[i].key, b.user_properties[i].key);
    EXPECT_EQ(a.user_properties[i].value, b.user_properties[i].value);
  }
  EXPECT_EQ(a.maximum_packet_size, b.maximum_packet_size);
  EXPECT_EQ(a.wildcard_subscription_available, b.wildcard_subscription_available);
  EXPECT_EQ(a.subscription_identifier_available, b.subscription_identifier_available);
  EXPECT_EQ(a.shared_subscription_available, b.shared_subscription_available);
}

TEST(Properties, ConnectAndWill) {
  Connect c;
  c.version = Version::V5;
  c.client_id = "x";
  c.props = only({0x11, 0x21, 0x27, 0x22, 0x19, 0x17, 0x26, 0x15, 0x16});
  Will w;
  w.topic = "w";
  w.props = only({0x18, 0x01, 0x02, 0x03, 0x08, 0x09, 0x26});
  c.will = w;
  std::string buf;
  encode(c, buf);
  Parser p;
  Packet pkt = parse_ok(p, buf);
  expect_same(std::get<Connect>(pkt).props, c.props);
  expect_same(std::get<Connect>(pkt).will->props, w.props);
}

TEST(Properties, Connack) {
  Connack c;
  c.props = only({0x11, 0x21, 0x24, 0x25, 0x27, 0x12, 0x22, 0x1F, 0x26, 0x28, 0x29, 0x2A, 0x13, 0x1A, 0x1C, 0x15, 0x16});
  std::string buf;
  encode(c, Version::V5, buf);
  Parser p = client(Version::V5);
  expect_same(std::get<Connack>(parse_ok(p, buf)).props, c.props);
}

TEST(Properties, PublishBothDirections) {
  Publish m;
  m.topic = "t";
  m.props = only({0x01, 0x02, 0x23, 0x08, 0x09, 0x26, 0x03});
  std::string buf;
  encode(m, Version::V5, buf);
  Parser s = server(Version::V5);
  expect_same(std::get<Publish>(parse_ok(s, buf)).props, m.props);
  m.props.subscription_identifiers = {1, 2, 3};
  buf.clear();
  encode(m, Version::V5, buf);
  Parser c = client(Version::V5);
  expect_same(std::get<Publish>(parse_ok(c, buf)).props, m.props);
}

TEST(Properties, AcksSubscribeDisconnectAuth) {
  std::string buf;
  Ack a{PacketType::Pubcomp, 1, Reason::Success, only({0x1F, 0x26})};
  encode(a, Version::V5, buf);
  Parser s = server(Version::V5);
  expect_same(std::get<Ack>(parse_ok(s, buf)).props, a.props);

  Subscribe sub;
  sub.packet_id = 1;
  sub.subscriptions = {{"a", {}}};
  sub.props = only({0x26});
  sub.props.subscription_identifiers = {268435455};
  buf.clear();
  encode(sub, Version::V5, buf);
  expect_same(std::get<Subscribe>(parse_ok(s, buf)).props, sub.props);

  Unsubscribe un;
  un.packet_id = 1;
  un.filters = {"a"};
  un.props = only({0x26});
  buf.clear();
  encode(un, Version::V5, buf);
  expect_same(std::get<Unsubscribe>(parse_ok(s, buf)).props, un.props);

  Disconnect d;
  d.props = only({0x11, 0x1F, 0x26});
  buf.clear();
  encode(d, Version::V5, buf);
  expect_same(std::get<Disconnect>(parse_ok(s, buf)).props, d.props);

  Auth au;
  au.reason = Reason::ContinueAuthentication;
  au.props = only({0x15, 0x16, 0x1F, 0x26});
  buf.clear();
  encode(au, buf);
  expect_same(std::get<Auth>(parse_ok(s, buf)).props, au.props);

  SubAck sa;
  sa.packet_id = 3;
  sa.reasons = {Reason::Success};
  sa.props = only({0x1F, 0x26});
  buf.clear();
  encode(sa, Version::V5, buf);
  Parser c = client(Version::V5);
  expect_same(std::get<SubAck>(parse_ok(c, buf)).props, sa.props);
}

TEST(Properties, ByteLayout) {
  // PUBLISH "t", QoS 0, Message Expiry 10, Subscription Identifier 200 (2-byte varint),
  // User Property ("a","b"): property length 5 + 3 + 7 = 15.
  Publish m;
  m.topic = "t";
  m.props.message_expiry_interval = 10;
  m.props.subscription_identifiers = {200};
  m.props.user_properties = {{"a", "b"}};
  std::string buf;
  encode(m, Version::V5, buf);
  EXPECT_EQ(hex(buf), hex("\x30\x13\x00\x01t\x0f\x02\x00\x00\x00\x0a\x0b\xc8\x01\x26\x00\x01" "a\x00\x01" "b"s));
}

TEST(Properties, EmptyIgnoresNothing) {
  const Properties a = all_properties();
  EXPECT_FALSE(a.empty());
  for (int id : {0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x11, 0x12, 0x13, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1C,
                 0x1F, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A}) {
    EXPECT_FALSE(only({id}).empty()) << id;
  }
}

}  // namespace
}  // namespace sluice::mqtt
