// PUBLISH (spec 3.3) and its acknowledgements PUBACK/PUBREC/PUBREL/PUBCOMP (3.4-3.7).
// PUBLISH is the hot path: no allocation unless the packet carries
// Subscription Identifiers or User Properties, and the reused Packet keeps
// their vectors' capacity.
#include "mqtt/decode.hpp"
#include "mqtt/properties.hpp"
#include "mqtt/reason_codes.hpp"

namespace sluice::mqtt::wire {

void decode_publish(Reader& r, uint8_t flags, Version v, bool from_server, Packet& out) {
  Publish& p = use<Publish>(out);
  p.qos = (flags >> 1) & 3;  // QoS 3 and DUP on QoS 0 were rejected with the fixed header
  p.retain = flags & 1;
  p.dup = flags & 8;
  p.topic = r.binary();
  const NameCheck topic_check = check_topic_name(p.topic);
  if (p.qos) {
    p.packet_id = r.u16();
    if (r.ok() && p.packet_id == 0) return r.fail(Reason::ProtocolError, "packet identifier 0");
  } else {
    p.packet_id = 0;
  }
  if (v == Version::V5) {
    reset(p.props);
    p.props_set = true;
    read_properties(r, p.props, from_server ? allow::kPublishToClient : allow::kPublishToServer, from_server);
  } else if (p.props_set) {  // a v5 PUBLISH was decoded into this packet before
    reset(p.props);
    p.props_set = false;
  }
  if (!r.ok()) return;
  switch (topic_check) {
    case NameCheck::Ok: break;
    case NameCheck::BadUtf8: return r.fail(Reason::MalformedPacket, "PUBLISH topic is not valid UTF-8");
    case NameCheck::Wildcard: return r.fail(Reason::TopicNameInvalid, "PUBLISH topic contains wildcard");
    case NameCheck::Empty:
      // MQTT 5 allows an empty topic with a Topic Alias (3.3.2.3.4); 3.x never.
      if (v != Version::V5) return r.fail(Reason::TopicNameInvalid, "PUBLISH topic is empty");
      if (!p.props.topic_alias) return r.fail(Reason::ProtocolError, "PUBLISH topic empty without topic alias");
      break;
  }
  p.payload = r.rest();
}

void decode_ack(Reader& r, PacketType t, Version v, Packet& out) {
  Ack& a = use<Ack>(out);
  a.type = t;
  a.packet_id = r.u16();
  a.reason = Reason::Success;
  reset(a.props);
  if (r.ok() && a.packet_id == 0) return r.fail(Reason::ProtocolError, "packet identifier 0");
  // MQTT 5: reason code and properties may be omitted (3.4.2.1).
  if (v == Version::V5 && r.ok() && !r.at_end()) {
    const uint8_t code = r.u8();
    const CodeSet& allowed = (t == PacketType::Puback || t == PacketType::Pubrec) ? kPubackCodes : kPubrelCodes;
    if (!allowed.has(code)) return r.fail(Reason::ProtocolError, "invalid reason code for acknowledgement");
    a.reason = Reason(code);
    if (!r.at_end()) read_properties(r, a.props, allow::kAck);
  }
  expect_end(r, "unexpected bytes after acknowledgement");
}

}  // namespace sluice::mqtt::wire
