#include "persist/message_codec.hpp"

#include <algorithm>
#include <cstring>

#include "broker/clock.hpp"
#include "broker/persistence.hpp"

namespace sluice::persist {

namespace {

constexpr uint8_t kVersion = 1;
enum : uint8_t { kFormat = 1, kContentType = 2, kResponseTopic = 4, kCorrelation = 8 };

void put_u32(std::string& o, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  o.append(b, 4);
}
void put_i64(std::string& o, int64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  o.append(b, 8);
}
void put_str(std::string& o, std::string_view s) {
  put_u32(o, static_cast<uint32_t>(s.size()));
  o.append(s);
}

struct Reader {
  std::string_view in;
  bool ok = true;
  bool take(void* dst, size_t n) {
    if (!ok || in.size() < n) return ok = false;
    std::memcpy(dst, in.data(), n);
    in.remove_prefix(n);
    return true;
  }
  uint8_t u8() {
    uint8_t v = 0;
    take(&v, 1);
    return v;
  }
  uint32_t u32() {
    uint32_t v = 0;
    take(&v, 4);
    return v;
  }
  int64_t i64() {
    int64_t v = 0;
    take(&v, 8);
    return v;
  }
  std::string str() {
    const uint32_t n = u32();
    if (!ok || in.size() < n) {
      ok = false;
      return {};
    }
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
};

}  // namespace

std::string encode_message(const broker::Message& m) {
  std::string o;
  append_message(o, m);
  return o;
}

size_t plain_message_size(const broker::Message& m) {
  if (m.payload_format || m.content_type || m.response_topic || m.correlation_data || !m.user_properties.empty())
    return 0;
  return 3 + 8 + 1 + 4 + 4 + m.topic.size() + 4 + m.payload.size();
}

// The common message (no MQTT 5 properties): the same bytes as the general
// path below, by plain copies (a byte at a time through push_back / append
// was ~380 instructions of the store writer's per rule entry, callgrind, issue 19).
char* write_plain_message(char* p, const broker::Message& m) {
  p[0] = static_cast<char>(kVersion);
  p[1] = static_cast<char>(m.qos);
  p[2] = static_cast<char>(m.retain ? 1 : 0);
  const int64_t expiry = m.expiry_at_ms ? broker::wall_ms() + (m.expiry_at_ms - broker::now_ms()) : 0;
  std::memcpy(p + 3, &expiry, 8);
  p[11] = 0;  // flags
  const uint32_t props = 0, tlen = static_cast<uint32_t>(m.topic.size()), plen = static_cast<uint32_t>(m.payload.size());
  std::memcpy(p + 12, &props, 4);
  std::memcpy(p + 16, &tlen, 4);
  std::memcpy(p + 20, m.topic.data(), m.topic.size());
  p += 20 + m.topic.size();
  std::memcpy(p, &plen, 4);
  std::memcpy(p + 4, m.payload.data(), m.payload.size());
  return p + 4 + m.payload.size();
}

void append_message(std::string& o, const broker::Message& m) {
  if (const size_t n = plain_message_size(m)) {
    const size_t at = o.size();
    if (at + n > o.capacity()) o.reserve(std::max(at + n, 2 * o.capacity()));
    o.resize(at + n);
    write_plain_message(o.data() + at, m);
    return;
  }
  o.reserve(o.size() + 32 + m.topic.size() + m.payload.size());
  o.push_back(static_cast<char>(kVersion));
  o.push_back(static_cast<char>(m.qos));
  o.push_back(static_cast<char>(m.retain ? 1 : 0));
  put_i64(o, m.expiry_at_ms ? broker::wall_ms() + (m.expiry_at_ms - broker::now_ms()) : 0);
  uint8_t flags = (m.payload_format ? kFormat : 0) | (m.content_type ? kContentType : 0) |
                  (m.response_topic ? kResponseTopic : 0) | (m.correlation_data ? kCorrelation : 0);
  o.push_back(static_cast<char>(flags));
  if (m.payload_format) o.push_back(static_cast<char>(*m.payload_format));
  if (m.content_type) put_str(o, *m.content_type);
  if (m.response_topic) put_str(o, *m.response_topic);
  if (m.correlation_data) put_str(o, *m.correlation_data);
  put_u32(o, static_cast<uint32_t>(m.user_properties.size()));
  for (const auto& [k, v] : m.user_properties) {
    put_str(o, k);
    put_str(o, v);
  }
  put_str(o, m.topic);
  put_str(o, m.payload);
}

broker::MessagePtr decode_message(std::string_view bytes, int64_t wall_now, int64_t mono_now) {
  return decode_message_mut(bytes, wall_now, mono_now);
}

std::shared_ptr<broker::Message> decode_message_mut(std::string_view bytes, int64_t wall_now, int64_t mono_now) {
  Reader r{bytes};
  if (r.u8() != kVersion || !r.ok) return nullptr;
  auto m = std::make_shared<broker::Message>();
  m->qos = r.u8();
  m->retain = r.u8() != 0;
  const int64_t expiry_wall = r.i64();
  if (expiry_wall) m->expiry_at_ms = mono_now + (expiry_wall - wall_now);
  if (m->expiry_at_ms == 0 && expiry_wall) m->expiry_at_ms = 1;  // 0 means "never"
  const uint8_t flags = r.u8();
  if (flags & kFormat) m->payload_format = r.u8();
  if (flags & kContentType) m->content_type = r.str();
  if (flags & kResponseTopic) m->response_topic = r.str();
  if (flags & kCorrelation) m->correlation_data = r.str();
  const uint32_t n = r.u32();
  // Each property takes at least 8 bytes: a damaged count cannot make us allocate much.
  if (!r.ok || n > r.in.size() / 8) return nullptr;
  m->user_properties.reserve(n);
  for (uint32_t i = 0; i < n && r.ok; ++i) {
    std::string k = r.str();
    std::string v = r.str();
    m->user_properties.emplace_back(std::move(k), std::move(v));
  }
  m->topic = r.str();
  m->payload = r.str();
  if (!r.ok || m->qos > 2 || m->topic.empty()) return nullptr;
  return m;
}

}  // namespace sluice::persist
