#pragma once
// MQTT packets as plain structs for all of 3.1, 3.1.1 and 5.0.
//
// Decoded packets are *views*: every string_view points into the buffer the
// packet was decoded from and is valid only while that buffer is. Whoever keeps
// data (the broker) copies it. Packets built for encoding may point anywhere.
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "mqtt/reason.hpp"

namespace sluice::mqtt {

enum class Version : uint8_t { V3_1 = 3, V3_1_1 = 4, V5 = 5 };

enum class PacketType : uint8_t {
  Connect = 1, Connack, Publish, Puback, Pubrec, Pubrel, Pubcomp,
  Subscribe, Suback, Unsubscribe, Unsuback, Pingreq, Pingresp, Disconnect, Auth,
};

struct UserProperty {
  std::string_view key;
  std::string_view value;
};

// MQTT 5 properties (spec 2.2.2.2). Absent = nullopt / empty. The decoder
// rejects a property that is not allowed in the packet it appears in, and a
// duplicate of any property other than User Property and (in PUBLISH from the
// server) Subscription Identifier.
struct Properties {
  std::optional<uint8_t> payload_format_indicator;          // 0x01
  std::optional<uint32_t> message_expiry_interval;          // 0x02
  std::optional<std::string_view> content_type;             // 0x03
  std::optional<std::string_view> response_topic;           // 0x08
  std::optional<std::string_view> correlation_data;         // 0x09 (binary)
  std::vector<uint32_t> subscription_identifiers;           // 0x0B (varint, 1..268435455)
  std::optional<uint32_t> session_expiry_interval;          // 0x11
  std::optional<std::string_view> assigned_client_identifier;  // 0x12
  std::optional<uint16_t> server_keep_alive;                // 0x13
  std::optional<std::string_view> authentication_method;    // 0x15
  std::optional<std::string_view> authentication_data;      // 0x16 (binary)
  std::optional<uint8_t> request_problem_information;       // 0x17
  std::optional<uint32_t> will_delay_interval;              // 0x18
  std::optional<uint8_t> request_response_information;      // 0x19
  std::optional<std::string_view> response_information;     // 0x1A
  std::optional<std::string_view> server_reference;         // 0x1C
  std::optional<std::string_view> reason_string;            // 0x1F
  std::optional<uint16_t> receive_maximum;                  // 0x21 (non-zero)
  std::optional<uint16_t> topic_alias_maximum;              // 0x22
  std::optional<uint16_t> topic_alias;                      // 0x23 (non-zero)
  std::optional<uint8_t> maximum_qos;                       // 0x24 (0 or 1)
  std::optional<uint8_t> retain_available;                  // 0x25
  std::vector<UserProperty> user_properties;                // 0x26
  std::optional<uint32_t> maximum_packet_size;              // 0x27 (non-zero)
  std::optional<uint8_t> wildcard_subscription_available;   // 0x28
  std::optional<uint8_t> subscription_identifier_available; // 0x29
  std::optional<uint8_t> shared_subscription_available;     // 0x2A

  bool empty() const;
};

struct Will {
  std::string_view topic;
  std::string_view payload;
  uint8_t qos = 0;
  bool retain = false;
  Properties props;  // will properties (v5)
};

struct Connect {
  Version version = Version::V3_1_1;
  bool clean_start = true;       // "clean session" in 3.x
  uint16_t keep_alive = 0;       // seconds
  std::string_view client_id;    // may be empty
  std::optional<Will> will;
  std::optional<std::string_view> username;
  std::optional<std::string_view> password;  // binary
  Properties props;
};

struct Connack {
  bool session_present = false;
  // v5 reason code; for 3.x the encoder maps it with to_v3_connack().
  Reason reason = Reason::Success;
  Properties props;
};

struct Publish {
  std::string_view topic;  // may be empty in v5 when a topic alias is used
  std::string_view payload;
  uint16_t packet_id = 0;  // 0 for QoS 0
  uint8_t qos = 0;
  bool retain = false;
  bool dup = false;
  // The decoder's note that `props` may hold something (a v5 PUBLISH was decoded
  // into this reused packet): a v3 PUBLISH has no properties, and resetting them
  // all for each one cost ~50 instructions a message (issue 20). Whoever else
  // writes `props` of a Publish that is decoded into again must set it.
  bool props_set = false;
  Properties props;
};

// PUBACK, PUBREC, PUBREL, PUBCOMP.
struct Ack {
  PacketType type = PacketType::Puback;
  uint16_t packet_id = 0;
  Reason reason = Reason::Success;
  Properties props;
};

struct SubscribeOptions {
  uint8_t qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  uint8_t retain_handling = 0;  // 0 send, 1 send if new, 2 don't send
};

struct Subscription {
  // Decoded filters are well-formed UTF-8 but may be invalid filters ("a/#/b"):
  // the broker checks valid_topic_filter() and answers per filter (see codec.hpp).
  std::string_view filter;
  SubscribeOptions options;
};

struct Subscribe {
  uint16_t packet_id = 0;
  std::vector<Subscription> subscriptions;  // at least one
  Properties props;
};

// SUBACK and UNSUBACK. For 3.x SUBACK the codes are 0,1,2 or 0x80; a 3.1.1
// UNSUBACK has no payload (reasons are ignored when encoding it).
struct SubAck {
  PacketType type = PacketType::Suback;
  uint16_t packet_id = 0;
  std::vector<Reason> reasons;
  Properties props;
};

struct Unsubscribe {
  uint16_t packet_id = 0;
  std::vector<std::string_view> filters;  // at least one
  Properties props;
};

struct Pingreq {};
struct Pingresp {};

struct Disconnect {
  Reason reason = Reason::Success;
  Properties props;
};

struct Auth {
  Reason reason = Reason::Success;
  Properties props;
};

using Packet = std::variant<Connect, Connack, Publish, Ack, Subscribe, SubAck,
                            Unsubscribe, Pingreq, Pingresp, Disconnect, Auth>;

// The position of a packet struct in Packet, so that a switch on
// Packet::index() names its cases (`case index_of<Publish>:`) instead of
// counting alternatives.
namespace detail {
template <class T, class... Ts>
constexpr size_t variant_index(const std::variant<Ts...>*) {
  constexpr bool match[] = {std::is_same_v<T, Ts>...};
  for (size_t i = 0; i < sizeof...(Ts); ++i)
    if (match[i]) return i;
  return sizeof...(Ts);
}
}  // namespace detail
template <class T>
inline constexpr size_t index_of = detail::variant_index<T>(static_cast<const Packet*>(nullptr));
static_assert(index_of<Connect> == 0 && index_of<Auth> == std::variant_size_v<Packet> - 1);

PacketType packet_type(const Packet& p);
const char* packet_type_name(PacketType t);

}  // namespace sluice::mqtt
