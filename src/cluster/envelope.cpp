#include "cluster/envelope.hpp"

#include <cstdlib>

#include "broker/clock.hpp"
#include "broker/persistence.hpp"
#include "persist/message_codec.hpp"

namespace sluice::cluster {

namespace {

// Not 1 (persist's version byte, the first byte of a message logged before the
// envelope): the two formats cannot be taken for each other.
constexpr uint8_t kVersion = 0xE1;

void put_varint(std::string& o, uint64_t v) {
  while (v >= 0x80) {
    o.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  o.push_back(static_cast<char>(v));
}

bool get_varint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (unsigned shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

bool get_bytes(std::string_view& in, std::string_view& out) {
  uint64_t n = 0;
  if (!get_varint(in, n) || n > in.size()) return false;
  out = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

uint64_t number(const std::map<std::string, std::string>& h, const char* key) {
  auto it = h.find(key);
  return it == h.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
}

std::string_view text(const std::map<std::string, std::string>& h, const char* key) {
  auto it = h.find(key);
  return it == h.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace

std::string seal_message(const Envelope& e, const broker::Message& m) {
  std::string o;
  o.reserve(24 + e.node.size() + e.ns.size() + 32 + m.topic.size() + m.payload.size());
  o.push_back(static_cast<char>(kVersion));
  put_varint(o, e.node.size());
  o.append(e.node);
  put_varint(o, e.id);
  put_varint(o, e.ns.size());
  o.append(e.ns);
  put_varint(o, e.origin);
  put_varint(o, e.route_key);
  persist::append_message(o, m);
  return o;
}

bool read_envelope(std::string_view data, const std::map<std::string, std::string>& headers, Envelope& e,
                   std::string_view& body) {
  body = data;
  if (!data.empty() && static_cast<uint8_t>(data.front()) == kVersion) {
    data.remove_prefix(1);
    if (!get_bytes(data, e.node) || !get_varint(data, e.id) || !get_bytes(data, e.ns) ||
        !get_varint(data, e.origin) || !get_varint(data, e.route_key))
      return false;
    body = data;
  } else {  // logged before the envelope: the fields are headers
    e = Envelope{text(headers, "Sl-N"), number(headers, "Sl-I"), text(headers, "Sl-Ns"), number(headers, "Sl-O"),
                 number(headers, "Sl-K")};
  }
  return true;
}

std::optional<Opened> open_message(std::string_view data, const std::map<std::string, std::string>& headers) {
  Opened out;
  std::string_view body;
  if (!read_envelope(data, headers, out.envelope, body)) return std::nullopt;
  out.message = persist::decode_message_mut(body, broker::wall_ms(), broker::now_ms());
  if (!out.message) return std::nullopt;
  return out;
}

}  // namespace sluice::cluster
