#pragma once
// Per-account, per-action request rates of the RPC API (RpcOptions::rate_limits):
// token buckets refilled continuously, so a burst up to one second's worth passes
// and a steady caller is held to the rate.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sluice::api {

class RateLimiter {
 public:
  // true: allowed. retry_ms: how long until a token is available.
  bool take(const std::string& account, std::string_view action, double per_second, int64_t* retry_ms);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace sluice::api
