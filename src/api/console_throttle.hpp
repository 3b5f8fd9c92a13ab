#pragma once
// The console's throttle on failed sign-ins (and wrong old passwords), counted
// two ways in fixed one-minute windows:
//  - per source address: one address cannot try many login names fast;
//  - per login (IamService::console_login_key: the root by login name or alias
//    is one login): many addresses cannot try one login fast.
// A login's window only holds back attempts at that login, so failures at one
// login name never lock another out beyond the per-address bound. An address
// that signed in to a login successfully in the last 30 days is exempt from
// that login's window (not from its own address window): an attack on a login
// name from elsewhere does not lock its owner out where they usually sign in.
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sluice::api {

struct LoginThrottleLimits {
  int per_address_per_minute = 10;
  int per_login_per_minute = 10;
};

class LoginThrottle {
 public:
  using Limits = LoginThrottleLimits;
  explicit LoginThrottle(Limits limits = {}) : limits_(limits) {}

  // Seconds to wait before `login` may be tried from `addr`; 0 if it may be tried now.
  int64_t retry_after(const std::string& addr, const std::string& login, int64_t now);
  void failed(const std::string& addr, const std::string& login, int64_t now);
  void succeeded(const std::string& addr, const std::string& login, int64_t now);

  static constexpr size_t kMaxEntries = 100000;  // per map: bounded memory under a spray
  static constexpr int64_t kKnownAddressSeconds = 30 * 24 * 3600;

 private:
  struct Window {
    int64_t start = 0;
    int count = 0;
  };
  using Windows = std::unordered_map<std::string, Window>;
  static int64_t wait_locked(Windows& m, const std::string& key, int limit, int64_t now);
  static void count_locked(Windows& m, const std::string& key, int64_t now);

  Limits limits_;
  std::mutex mu_;
  Windows by_addr_, by_login_;
  std::unordered_map<std::string, int64_t> known_;  // login \x1f addr -> last successful sign-in
};

}  // namespace sluice::api
