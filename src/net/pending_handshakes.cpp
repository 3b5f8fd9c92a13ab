#include "net/pending_handshakes.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace sluice::net {

SourceAddress SourceAddress::of(const sockaddr* a) {
  SourceAddress s;
  if (a->sa_family == AF_INET) {
    uint32_t v4;
    std::memcpy(&v4, &reinterpret_cast<const sockaddr_in*>(a)->sin_addr, 4);
    s.lo = (uint64_t(0xFFFF) << 32) | ntohl(v4);  // ::ffff:a.b.c.d
  } else if (a->sa_family == AF_INET6) {
    const uint8_t* b = reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr.s6_addr;
    for (int i = 0; i < 8; ++i) s.hi = (s.hi << 8) | b[i];
    for (int i = 8; i < 16; ++i) s.lo = (s.lo << 8) | b[i];
  }
  return s;
}

std::string SourceAddress::text() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (hi == 0 && (lo >> 32) == 0xFFFF) {
    const uint32_t v4 = htonl(uint32_t(lo));
    inet_ntop(AF_INET, &v4, buf, sizeof buf);
    return buf;
  }
  uint8_t b[16];
  for (int i = 0; i < 8; ++i) b[i] = uint8_t(hi >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) b[8 + i] = uint8_t(lo >> (56 - 8 * i));
  inet_ntop(AF_INET6, b, buf, sizeof buf);
  return buf;
}

bool PendingHandshakes::begin(const SourceAddress& source) {
  if (max_ == 0) return true;  // no cap: nothing to count (end() then finds nothing)
  std::lock_guard lock(mu_);
  uint32_t& n = count_[source];
  if (n >= max_) return false;
  ++n;
  return true;
}

void PendingHandshakes::end(const SourceAddress& source) {
  if (max_ == 0) return;
  std::lock_guard lock(mu_);
  auto it = count_.find(source);
  if (it != count_.end() && it->second > 0) --it->second;
}

void PendingHandshakes::prune() {
  std::lock_guard lock(mu_);
  std::erase_if(count_, [](const auto& kv) { return kv.second == 0; });
}

size_t PendingHandshakes::sources() {
  std::lock_guard lock(mu_);
  return count_.size();
}

}  // namespace sluice::net
