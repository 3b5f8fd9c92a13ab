#pragma once
// New connections per source address: a token bucket per address (`per_second`
// refill, `burst` capacity), shared by every event loop (SO_REUSEPORT spreads
// one address's connections over all of them). Asked in accept, before a byte
// is read: a connect storm from one address costs an accept and a close, and
// clients already connected never notice it.
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

struct sockaddr;

namespace sluice::net {

class ConnectLimiter {
 public:
  ConnectLimiter(double per_second, double burst);
  // True: admit a new connection from `addr` now (takes a token).
  bool admit(const sockaddr* addr, int64_t now_ms);
  // Forgets addresses whose bucket has been full for a while (bounded memory).
  void prune(int64_t now_ms);
  size_t tracked();

 private:
  struct Bucket {
    double tokens;
    int64_t last_ms;
  };
  const double per_ms_;
  const double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // key: the raw address bytes
};

}  // namespace sluice::net
