#include "api/rate_limiter.hpp"

#include <algorithm>

namespace sluice::api {

bool RateLimiter::take(const std::string& account, std::string_view action, double per_second, int64_t* retry_ms) {
  auto now = std::chrono::steady_clock::now();
  std::string key = account;
  key.push_back('\x1f');
  key += action;
  std::lock_guard lk(mu_);
  auto [it, fresh] = buckets_.try_emplace(std::move(key), Bucket{per_second, now});
  Bucket& b = it->second;
  if (!fresh) {
    double dt = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(per_second, b.tokens + dt * per_second);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  *retry_ms = static_cast<int64_t>((1.0 - b.tokens) / per_second * 1000.0) + 1;
  return false;
}

}  // namespace sluice::api
