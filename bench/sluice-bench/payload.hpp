#pragma once
// What every benchmark PUBLISH carries at the front of its payload, so the
// subscriber can attribute it (publisher, sequence number: loss and duplicates)
// and time it (send timestamp: latency) without any side table.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace sbench {

struct PayloadHeader {
  static constexpr uint32_t kMagic = 0x31424c53;  // "SLB1" little-endian
  static constexpr size_t kSize = 24;

  uint32_t publisher = 0;
  uint64_t seq = 0;
  int64_t sent_ns = 0;

  // Overwrites the first kSize bytes of buf (which is at least that long).
  void write(std::string& buf) const {
    char* p = buf.data();
    uint32_t magic = kMagic;
    std::memcpy(p, &magic, 4);
    std::memcpy(p + 4, &publisher, 4);
    std::memcpy(p + 8, &seq, 8);
    std::memcpy(p + 16, &sent_ns, 8);
  }

  static std::optional<PayloadHeader> read(std::string_view payload) {
    if (payload.size() < kSize) return std::nullopt;
    uint32_t magic;
    std::memcpy(&magic, payload.data(), 4);
    if (magic != kMagic) return std::nullopt;
    PayloadHeader h;
    std::memcpy(&h.publisher, payload.data() + 4, 4);
    std::memcpy(&h.seq, payload.data() + 8, 8);
    std::memcpy(&h.sent_ns, payload.data() + 16, 8);
    return h;
  }
};

}  // namespace sbench
