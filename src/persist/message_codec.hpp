#pragma once
// A broker message as bytes for the store: topic, payload, QoS, retain flag,
// MQTT 5 properties and expiry (as wall-clock time: the monotonic clock does
// not survive a reboot). Decoding checks every length: a damaged row reads back
// as nullptr, never as a crash.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "broker/message.hpp"

namespace sluice::persist {

std::string encode_message(const broker::Message& m);
// The same bytes appended to `out` (a caller that frames them saves a copy).
void append_message(std::string& out, const broker::Message& m);
// A message without MQTT 5 properties (the common one) written in place: its
// size (0: it has properties, use append_message), then the bytes at `p`
// (returns their end).
size_t plain_message_size(const broker::Message& m);
char* write_plain_message(char* p, const broker::Message& m);
// `wall_now` / `mono_now`: the two clocks at decode time (to map the expiry back).
broker::MessagePtr decode_message(std::string_view bytes, int64_t wall_now, int64_t mono_now);
// The same, for a caller that sets more fields before sharing the message.
std::shared_ptr<broker::Message> decode_message_mut(std::string_view bytes, int64_t wall_now, int64_t mono_now);

}  // namespace sluice::persist
