// MQTT 5 properties: decode with per-packet validation, size, encode.
#include "mqtt/properties.hpp"

namespace sluice::mqtt::wire {
namespace {

// 0/1 flags: any other value is a Protocol Error (spec 3.1.2.11.*, 3.2.2.3.*).
bool read_flag(Reader& r, std::optional<uint8_t>& dst, const char* detail) {
  uint8_t v = r.u8();
  if (v > 1) return r.fail(Reason::ProtocolError, detail), false;
  dst = v;
  return true;
}

template <class T>
bool set_nonzero(Reader& r, std::optional<T>& dst, T v, const char* detail) {
  if (v == 0) return r.fail(Reason::ProtocolError, detail), false;
  dst = v;
  return true;
}

void read_one(Reader& r, uint8_t id, Properties& out) {
  switch (id) {
    case 0x01: read_flag(r, out.payload_format_indicator, "payload format indicator not 0 or 1"); return;
    case 0x02: out.message_expiry_interval = r.u32(); return;
    case 0x03: out.content_type = r.utf8(); return;
    case 0x08: {
      std::string_view t = r.utf8();
      // The Response Topic is a topic name: no wildcards [MQTT-3.3.2-14].
      if (r.ok() && !valid_topic_name(t)) return r.fail(Reason::ProtocolError, "response topic is not a valid topic name");
      out.response_topic = t;
      return;
    }
    case 0x09: out.correlation_data = r.binary(); return;
    case 0x0B: {
      uint32_t v = r.varint();
      if (r.ok() && v == 0) return r.fail(Reason::ProtocolError, "subscription identifier 0");
      out.subscription_identifiers.push_back(v);
      return;
    }
    case 0x11: out.session_expiry_interval = r.u32(); return;
    case 0x12: out.assigned_client_identifier = r.utf8(); return;
    case 0x13: out.server_keep_alive = r.u16(); return;
    case 0x15: out.authentication_method = r.utf8(); return;
    case 0x16: out.authentication_data = r.binary(); return;
    case 0x17: read_flag(r, out.request_problem_information, "request problem information not 0 or 1"); return;
    case 0x18: out.will_delay_interval = r.u32(); return;
    case 0x19: read_flag(r, out.request_response_information, "request response information not 0 or 1"); return;
    case 0x1A: out.response_information = r.utf8(); return;
    case 0x1C: out.server_reference = r.utf8(); return;
    case 0x1F: out.reason_string = r.utf8(); return;
    case 0x21: set_nonzero(r, out.receive_maximum, r.u16(), "receive maximum 0"); return;
    case 0x22: out.topic_alias_maximum = r.u16(); return;
    case 0x23: {
      // 0x94 (Topic Alias invalid) names the problem better than a bare protocol error.
      const uint16_t v = r.u16();
      if (v == 0) return r.fail(Reason::TopicAliasInvalid, "topic alias 0");
      out.topic_alias = v;
      return;
    }
    case 0x24: read_flag(r, out.maximum_qos, "maximum QoS not 0 or 1"); return;
    case 0x25: read_flag(r, out.retain_available, "retain available not 0 or 1"); return;
    case 0x26: {
      std::string_view k = r.utf8();
      std::string_view v = r.utf8();
      if (r.ok()) out.user_properties.push_back({k, v});
      return;
    }
    case 0x27: set_nonzero(r, out.maximum_packet_size, r.u32(), "maximum packet size 0"); return;
    case 0x28: read_flag(r, out.wildcard_subscription_available, "wildcard subscription available not 0 or 1"); return;
    case 0x29: read_flag(r, out.subscription_identifier_available, "subscription identifier available not 0 or 1"); return;
    case 0x2A: read_flag(r, out.shared_subscription_available, "shared subscription available not 0 or 1"); return;
    default: r.fail(Reason::MalformedPacket, "unknown property identifier"); return;
  }
}

constexpr uint64_t kKnown = allow::kConnect | allow::kWill | allow::kConnack | allow::kPublishToClient |
                            allow::kSubscribe | allow::kDisconnectToClient | allow::kDisconnectToServer |
                            allow::kAuth;

}  // namespace

void read_properties_slow(Reader& r, Properties& out, uint64_t allowed, bool multi_subid) {
  uint32_t len = r.varint();
  if (!r.ok()) return;
  if (len == 0) return;  // the common case: nothing to do, nothing allocated
  if (len > r.left()) return r.fail(Reason::MalformedPacket, "property length exceeds packet");
  std::string_view body = r.bytes(len);
  Reader pr(reinterpret_cast<const uint8_t*>(body.data()), reinterpret_cast<const uint8_t*>(body.data()) + len);
  uint64_t seen = 0;
  while (!pr.at_end() && pr.ok()) {
    // Identifiers are varints, but every defined one is a single byte < 0x80.
    uint8_t id = pr.u8();
    if (id >= 64 || !(kKnown & bit(id))) return r.fail(Reason::MalformedPacket, "unknown property identifier");
    if (!(allowed & bit(id))) return r.fail(Reason::ProtocolError, "property not allowed in this packet");
    bool repeatable = id == 0x26 || (id == 0x0B && multi_subid);
    if ((seen & bit(id)) && !repeatable) return r.fail(Reason::ProtocolError, "duplicate property");
    seen |= bit(id);
    read_one(pr, id, out);
  }
  if (!pr.ok()) r.fail(pr.error().reason, pr.error().detail);
}

size_t properties_size(const Properties& p) {
  // Branch-free for the fixed-size ones: this runs once per PUBLISH encoded
  // for MQTT 5, and most messages have no properties at all.
  size_t n = 0;
  auto u8 = [&](const auto& o) { n += size_t(o.has_value()) * 2; };
  auto u16 = [&](const auto& o) { n += size_t(o.has_value()) * 3; };
  auto u32 = [&](const auto& o) { n += size_t(o.has_value()) * 5; };
  auto str = [&](const std::optional<std::string_view>& o) { if (o) n += 1 + str_size(*o); };
  u8(p.payload_format_indicator);
  u32(p.message_expiry_interval);
  str(p.content_type);
  str(p.response_topic);
  str(p.correlation_data);
  for (uint32_t id : p.subscription_identifiers) n += 1 + varint_size(id & kMaxVarint);
  u32(p.session_expiry_interval);
  str(p.assigned_client_identifier);
  u16(p.server_keep_alive);
  str(p.authentication_method);
  str(p.authentication_data);
  u8(p.request_problem_information);
  u32(p.will_delay_interval);
  u8(p.request_response_information);
  str(p.response_information);
  str(p.server_reference);
  str(p.reason_string);
  u16(p.receive_maximum);
  u16(p.topic_alias_maximum);
  u16(p.topic_alias);
  u8(p.maximum_qos);
  u8(p.retain_available);
  for (const auto& up : p.user_properties) n += 1 + str_size(up.key) + str_size(up.value);
  u32(p.maximum_packet_size);
  u8(p.wildcard_subscription_available);
  u8(p.subscription_identifier_available);
  u8(p.shared_subscription_available);
  return n;
}

char* put_properties_slow(char* o, const Properties& p, size_t size) {
  o = put_varint(o, uint32_t(size));
  auto u8 = [&](uint8_t id, const std::optional<uint8_t>& v) { if (v) { *o++ = char(id); *o++ = char(*v); } };
  auto u16 = [&](uint8_t id, const std::optional<uint16_t>& v) { if (v) { *o++ = char(id); o = put_u16(o, *v); } };
  auto u32 = [&](uint8_t id, const std::optional<uint32_t>& v) { if (v) { *o++ = char(id); o = put_u32(o, *v); } };
  auto str = [&](uint8_t id, const std::optional<std::string_view>& v) { if (v) { *o++ = char(id); o = put_str(o, *v); } };
  u8(0x01, p.payload_format_indicator);
  u32(0x02, p.message_expiry_interval);
  str(0x03, p.content_type);
  str(0x08, p.response_topic);
  str(0x09, p.correlation_data);
  for (uint32_t id : p.subscription_identifiers) { *o++ = 0x0B; o = put_varint(o, id & kMaxVarint); }
  u32(0x11, p.session_expiry_interval);
  str(0x12, p.assigned_client_identifier);
  u16(0x13, p.server_keep_alive);
  str(0x15, p.authentication_method);
  str(0x16, p.authentication_data);
  u8(0x17, p.request_problem_information);
  u32(0x18, p.will_delay_interval);
  u8(0x19, p.request_response_information);
  str(0x1A, p.response_information);
  str(0x1C, p.server_reference);
  str(0x1F, p.reason_string);
  u16(0x21, p.receive_maximum);
  u16(0x22, p.topic_alias_maximum);
  u16(0x23, p.topic_alias);
  u8(0x24, p.maximum_qos);
  u8(0x25, p.retain_available);
  for (const auto& up : p.user_properties) { *o++ = 0x26; o = put_str(put_str(o, up.key), up.value); }
  u32(0x27, p.maximum_packet_size);
  u8(0x28, p.wildcard_subscription_available);
  u8(0x29, p.subscription_identifier_available);
  u8(0x2A, p.shared_subscription_available);
  return o;
}

void reset(Properties& p) {
  // Field by field: clearing an optional is one flag store, far cheaper than
  // assigning a fresh ~400-byte Properties on every decoded PUBLISH.
  p.payload_format_indicator.reset();
  p.message_expiry_interval.reset();
  p.content_type.reset();
  p.response_topic.reset();
  p.correlation_data.reset();
  p.subscription_identifiers.clear();
  p.session_expiry_interval.reset();
  p.assigned_client_identifier.reset();
  p.server_keep_alive.reset();
  p.authentication_method.reset();
  p.authentication_data.reset();
  p.request_problem_information.reset();
  p.will_delay_interval.reset();
  p.request_response_information.reset();
  p.response_information.reset();
  p.server_reference.reset();
  p.reason_string.reset();
  p.receive_maximum.reset();
  p.topic_alias_maximum.reset();
  p.topic_alias.reset();
  p.maximum_qos.reset();
  p.retain_available.reset();
  p.user_properties.clear();
  p.maximum_packet_size.reset();
  p.wildcard_subscription_available.reset();
  p.subscription_identifier_available.reset();
  p.shared_subscription_available.reset();
}

}  // namespace sluice::mqtt::wire
