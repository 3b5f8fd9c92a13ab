#include "net/connect_limiter.hpp"

#include <algorithm>

#include "net/socket.hpp"

namespace sluice::net {

ConnectLimiter::ConnectLimiter(double per_second, double burst)
    : per_ms_(per_second / 1000.0), burst_(std::max(1.0, burst)) {}

bool ConnectLimiter::admit(const sockaddr* addr, int64_t now) {
  std::string key = source_key(addr);  // other families: one shared bucket
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
