// CONNECT (spec 3.1, 3.1.1 §3.1, MQTT 3.1 "MQIsdp") and CONNACK bodies.
#include "mqtt/decode.hpp"
#include "mqtt/properties.hpp"
#include "mqtt/reason_codes.hpp"

namespace sluice::mqtt::wire {

void decode_connect(Reader& r, Packet& out, Version& version) {
  std::string_view name = r.binary();
  uint8_t level = r.u8();
  if (!r.ok()) return;
  // Claimed version first: the broker answers errors in this version's format.
  version = level == 5 ? Version::V5 : level == 3 ? Version::V3_1 : Version::V3_1_1;
  const bool known_name = name == "MQTT" || name == "MQIsdp";
  if (!known_name) return r.fail(Reason::UnsupportedProtocolVersion, "unknown protocol name");
  if (!((name == "MQTT" && (level == 4 || level == 5)) || (name == "MQIsdp" && level == 3)))
    return r.fail(Reason::UnsupportedProtocolVersion, "unsupported protocol level");
  const bool v5 = level == 5;

  const uint8_t flags = r.u8();
  const uint16_t keep_alive = r.u16();
  if (!r.ok()) return;
  const bool has_will = flags & 0x04;
  const uint8_t will_qos = (flags >> 3) & 3;
  const bool will_retain = flags & 0x20;
  const bool has_password = flags & 0x40;
  const bool has_username = flags & 0x80;
  if (flags & 0x01) return r.fail(Reason::MalformedPacket, "CONNECT reserved flag set");
  if (!has_will && (will_qos || will_retain))
    return r.fail(Reason::MalformedPacket, "will QoS or retain set without will flag");
  if (will_qos == 3) return r.fail(Reason::MalformedPacket, "will QoS 3");
  // 3.x requires a user name with a password [MQTT-3.1.2-22]; MQTT 5 allows it alone.
  if (!v5 && has_password && !has_username) return r.fail(Reason::MalformedPacket, "password without user name");

  Connect& c = out.emplace<Connect>();  // CONNECT is rare: no reuse needed
  c.version = version;
  c.clean_start = flags & 0x02;
  c.keep_alive = keep_alive;
  if (v5) {
    read_properties(r, c.props, allow::kConnect);
    if (r.ok() && c.props.authentication_data && !c.props.authentication_method)
      return r.fail(Reason::ProtocolError, "authentication data without method");
  }
  c.client_id = r.utf8();
  if (has_will) {
    Will& w = c.will.emplace();
    w.qos = will_qos;
    w.retain = will_retain;
    if (v5) read_properties(r, w.props, allow::kWill);
    w.topic = r.utf8();
    w.payload = r.binary();
    if (r.ok() && !valid_topic_name(w.topic)) return r.fail(Reason::TopicNameInvalid, "will topic is not a valid topic name");
  }
  if (has_username) c.username = r.utf8();
  if (has_password) c.password = r.binary();
  expect_end(r, "unexpected bytes after CONNECT payload");
}

void decode_connack(Reader& r, Version v, Packet& out) {
  const uint8_t flags = r.u8();
  const uint8_t code = r.u8();
  if (!r.ok()) return;
  if (flags & 0xfe) return r.fail(Reason::MalformedPacket, "CONNACK reserved flags set");
  Connack& c = use<Connack>(out);
  reset(c.props);
  c.session_present = flags & 1;
  if (v != Version::V5) {
    static constexpr Reason kFromV3[] = {Reason::Success, Reason::UnsupportedProtocolVersion,
                                         Reason::ClientIdentifierNotValid, Reason::ServerUnavailable,
                                         Reason::BadUserNameOrPassword, Reason::NotAuthorized};
    if (code > 5) return r.fail(Reason::MalformedPacket, "unknown CONNACK return code");
    c.reason = kFromV3[code];
    return expect_end(r, "unexpected bytes after CONNACK");
  }
  if (!kConnackCodes.has(code)) return r.fail(Reason::ProtocolError, "invalid CONNACK reason code");
  c.reason = Reason(code);
  read_properties(r, c.props, allow::kConnack);
  expect_end(r, "unexpected bytes after CONNACK properties");
}

}  // namespace sluice::mqtt::wire
