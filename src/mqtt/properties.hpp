#pragma once
// Internal to sluice_mqtt: MQTT 5 property decoding and encoding (spec 2.2.2).
#include <cstdint>
#include <string>

#include "mqtt/packet.hpp"
#include "mqtt/wire.hpp"

namespace sluice::mqtt::wire {

constexpr uint64_t bit(unsigned id) { return uint64_t(1) << id; }

// Which property identifiers each packet may carry (spec 2.2.2.2 table),
// as bit masks indexed by identifier.
namespace allow {
inline constexpr uint64_t kUser = bit(0x26);
inline constexpr uint64_t kReasonString = bit(0x1F);
inline constexpr uint64_t kConnect = bit(0x11) | bit(0x21) | bit(0x27) | bit(0x22) | bit(0x19) |
                                     bit(0x17) | kUser | bit(0x15) | bit(0x16);
inline constexpr uint64_t kWill = bit(0x18) | bit(0x01) | bit(0x02) | bit(0x03) | bit(0x08) |
                                  bit(0x09) | kUser;
inline constexpr uint64_t kConnack = bit(0x11) | bit(0x21) | bit(0x24) | bit(0x25) | bit(0x27) |
                                     bit(0x12) | bit(0x22) | kReasonString | kUser | bit(0x28) |
                                     bit(0x29) | bit(0x2A) | bit(0x13) | bit(0x1A) | bit(0x1C) |
                                     bit(0x15) | bit(0x16);
// A client must not send a Subscription Identifier in PUBLISH [MQTT-3.3.4-6].
inline constexpr uint64_t kPublishToServer = bit(0x01) | bit(0x02) | bit(0x23) | bit(0x08) |
                                             bit(0x09) | kUser | bit(0x03);
inline constexpr uint64_t kPublishToClient = kPublishToServer | bit(0x0B);
inline constexpr uint64_t kAck = kReasonString | kUser;  // PUBACK..PUBCOMP, SUBACK, UNSUBACK
inline constexpr uint64_t kSubscribe = bit(0x0B) | kUser;
inline constexpr uint64_t kUnsubscribe = kUser;
// Session Expiry only from the client [MQTT-3.14.2-2]; Server Reference only from the server.
inline constexpr uint64_t kDisconnectToServer = bit(0x11) | kReasonString | kUser;
inline constexpr uint64_t kDisconnectToClient = bit(0x1C) | kReasonString | kUser;
inline constexpr uint64_t kAuth = bit(0x15) | bit(0x16) | kReasonString | kUser;
}  // namespace allow

// Reads Property Length and the properties into `out` (which must be reset).
// Unknown identifier: MalformedPacket. Identifier not in `allowed`, a duplicate
// (User Property always may repeat; Subscription Identifier when multi_subid),
// or a value out of range: ProtocolError.
void read_properties_slow(Reader& r, Properties& out, uint64_t allowed, bool multi_subid);
inline void read_properties(Reader& r, Properties& out, uint64_t allowed, bool multi_subid = false) {
  // Property Length 0 is by far the most common case: no call for it.
  if (r.skip_if(0)) return;
  read_properties_slow(r, out, allowed, multi_subid);
}

// Bytes of the encoded properties, excluding the Property Length varint.
size_t properties_size(const Properties& p);
// Writes Property Length (= size, from properties_size) and the properties.
char* put_properties_slow(char* o, const Properties& p, size_t size);
inline char* put_properties(char* o, const Properties& p, size_t size) {
  if (size == 0) {  // the common case, inline
    *o = 0;
    return o + 1;
  }
  return put_properties_slow(o, p, size);
}

// Empties `p` but keeps the vectors' capacity, so a reused Packet does not allocate.
void reset(Properties& p);

}  // namespace sluice::mqtt::wire
