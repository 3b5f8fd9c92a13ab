#include "net/connect_limiter.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

namespace sluice::net {

ConnectLimiter::ConnectLimiter(double per_second, double burst)
    : per_ms_(per_second / 1000.0), burst_(std::max(1.0, burst)) {}

namespace {
std::string key_of(const sockaddr* a) {
  if (a->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(a);
    return std::string(reinterpret_cast<const char*>(&in->sin_addr), sizeof in->sin_addr);
  }
  if (a->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a);
    return std::string(reinterpret_cast<const char*>(&in6->sin6_addr), sizeof in6->sin6_addr);
  }
  return {};  // unix sockets and the like: one shared bucket
}
}  // namespace

bool ConnectLimiter::admit(const sockaddr* addr, int64_t now) {
  std::string key = key_of(addr);
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(std::move(key), Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    b.tokens = std::min(burst_, b.tokens + double(now - b.last_ms) * per_ms_);
    b.last_ms = now;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

void ConnectLimiter::prune(int64_t now) {
  // A bucket that has refilled completely is indistinguishable from a new one.
  const double full_after_ms = per_ms_ > 0 ? burst_ / per_ms_ : 0;
  std::lock_guard lock(mu_);
  std::erase_if(buckets_, [&](const auto& kv) { return double(now - kv.second.last_ms) >= full_after_ms; });
}

size_t ConnectLimiter::tracked() {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace sluice::net
