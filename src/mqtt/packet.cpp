// Packet type helpers and Properties::empty.
#include "mqtt/packet.hpp"

namespace sluice::mqtt {

PacketType packet_type(const Packet& p) {
  struct V {
    PacketType operator()(const Connect&) const { return PacketType::Connect; }
    PacketType operator()(const Connack&) const { return PacketType::Connack; }
    PacketType operator()(const Publish&) const { return PacketType::Publish; }
    PacketType operator()(const Ack& a) const { return a.type; }
    PacketType operator()(const Subscribe&) const { return PacketType::Subscribe; }
    PacketType operator()(const SubAck& a) const { return a.type; }
    PacketType operator()(const Unsubscribe&) const { return PacketType::Unsubscribe; }
    PacketType operator()(const Pingreq&) const { return PacketType::Pingreq; }
    PacketType operator()(const Pingresp&) const { return PacketType::Pingresp; }
    PacketType operator()(const Disconnect&) const { return PacketType::Disconnect; }
    PacketType operator()(const Auth&) const { return PacketType::Auth; }
  };
  return std::visit(V{}, p);
}

const char* packet_type_name(PacketType t) {
  switch (t) {
    case PacketType::Connect: return "CONNECT";
    case PacketType::Connack: return "CONNACK";
    case PacketType::Publish: return "PUBLISH";
    case PacketType::Puback: return "PUBACK";
    case PacketType::Pubrec: return "PUBREC";
    case PacketType::Pubrel: return "PUBREL";
    case PacketType::Pubcomp: return "PUBCOMP";
    case PacketType::Subscribe: return "SUBSCRIBE";
    case PacketType::Suback: return "SUBACK";
    case PacketType::Unsubscribe: return "UNSUBSCRIBE";
    case PacketType::Unsuback: return "UNSUBACK";
    case PacketType::Pingreq: return "PINGREQ";
    case PacketType::Pingresp: return "PINGRESP";
    case PacketType::Disconnect: return "DISCONNECT";
    case PacketType::Auth: return "AUTH";
  }
  return "UNKNOWN";
}

bool Properties::empty() const {
  return !payload_format_indicator && !message_expiry_interval && !content_type && !response_topic &&
         !correlation_data && subscription_identifiers.empty() && !session_expiry_interval &&
         !assigned_client_identifier && !server_keep_alive && !authentication_method &&
         !authentication_data && !request_problem_information && !will_delay_interval &&
         !request_response_information && !response_information && !server_reference && !reason_string &&
         !receive_maximum && !topic_alias_maximum && !topic_alias && !maximum_qos && !retain_available &&
         user_properties.empty() && !maximum_packet_size && !wildcard_subscription_available &&
         !subscription_identifier_available && !shared_subscription_available;
}

}  // namespace sluice::mqtt
