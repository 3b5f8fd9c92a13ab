#pragma once
// Console sign-in state: cookie sessions held in memory (a restart signs
// everyone out), each with its CSRF token and expiry (idle and absolute), and
// the per-address throttle on failed sign-ins.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "iam/model.hpp"

namespace sluice::api {

struct ConsoleSession {
  std::string id;    // the cookie value: 256 random bits, hex (only its hash is kept)
  std::string csrf;  // sent back in X-CSRF-Token on every mutating request
  iam::Principal principal;
  std::string display_name;
  bool must_change_password = false;
  int64_t created_s = 0;
  int64_t last_seen_s = 0;
  int64_t expires_at = 0;  // min(last_seen + idle, created + absolute)
};

struct ConsoleSessionLimits {
  int64_t idle_seconds = 30 * 60;
  int64_t absolute_seconds = 12 * 3600;
};

class ConsoleSessions {
 public:
  explicit ConsoleSessions(ConsoleSessionLimits limits = {}) : limits_(limits) {}

  ConsoleSession create(iam::Principal p, std::string display_name, bool must_change_password, int64_t now);
  // The session for a cookie value, its idle timer restarted; nullopt if unknown or expired.
  std::optional<ConsoleSession> touch(std::string_view id, int64_t now);
  void remove(std::string_view id);
  void set_must_change_password(std::string_view id, bool v);
  const ConsoleSessionLimits& limits() const { return limits_; }
  size_t size();

 private:
  void expire_locked(int64_t now);
  int64_t expiry(const ConsoleSession& s) const;

  ConsoleSessionLimits limits_;
  std::mutex mu_;
  // Keyed by SHA-256 of the cookie: a lookup's timing says nothing about live cookies.
  std::unordered_map<std::string, ConsoleSession> by_hash_;
  int64_t last_sweep_ = 0;
};

// Failed sign-ins per source address in a sliding minute (then 429).
class LoginThrottle {
 public:
  explicit LoginThrottle(int per_minute = 10) : per_minute_(per_minute) {}
  // Seconds to wait before the next attempt from `addr`, 0 if it may try now.
  int64_t retry_after(const std::string& addr, int64_t now);
  void failed(const std::string& addr, int64_t now);

 private:
  struct Window {
    int64_t start = 0;
    int count = 0;
  };
  int per_minute_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> by_addr_;
};

}  // namespace sluice::api
