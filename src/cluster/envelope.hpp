#pragma once
// What a node sends the others for each message it routes through NATS (core
// QoS 0 subjects, the QoS 1/2 stream SLUICE_MSG, P2P): who sent it (the node's
// name and its own id of the message, to drop a copy that arrives twice), its
// namespace, the publishing session's serial (No Local) and the route key
// (shared subscriptions), then the message as the store encodes it — all in the
// payload, behind one version byte.
//
// Why not NATS headers (what this replaced): libnats keeps a message's headers
// in a hash table it builds, encodes, parses and frees per message on both
// sides. callgrind, fan-in 4→1 QoS 0 (bench/callgrind_cluster.sh): of the
// ~16,700 instructions a forwarded message cost its sender, ~10,000 were the
// five headers; the receiver spent ~5,000 reading them.
//
// Messages logged before this format (headers, payload = the message alone)
// still read back: a stream outlives a rolling upgrade.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "broker/message.hpp"

namespace sluice::cluster {

struct Envelope {
  std::string_view node;  // the sending node's name
  uint64_t id = 0;        // the sender's own number for this message
  std::string_view ns;    // namespace id
  uint64_t origin = 0;    // the publishing session's serial on its node (0: none)
  uint64_t route_key = 0;
};

// The payload for `m` (the envelope's fields, then persist::append_message).
std::string seal_message(const Envelope& e, const broker::Message& m);

// A received payload's envelope (for one logged before this format, read from
// its headers) and `body`, the stored message it carries; false when it does
// not read. The views point into `data` / `headers`.
bool read_envelope(std::string_view data, const std::map<std::string, std::string>& headers, Envelope& e,
                   std::string_view& body);

// The same, with the message decoded; nullopt when either does not read.
struct Opened {
  Envelope envelope;
  std::shared_ptr<broker::Message> message;
};
std::optional<Opened> open_message(std::string_view data, const std::map<std::string, std::string>& headers);

}  // namespace sluice::cluster
