#pragma once
// Console sessions: cookies held in memory (a restart signs everyone out), each
// with its CSRF token, its expiry (idle and absolute), and what it is bound to:
// the account, the RAM user's id and the login generation (the console checks
// these against IamService::console_standing on every request).
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
  std::string user_id;          // a RAM user's id (not its name); empty for root
  int64_t login_generation = 0;  // the login's generation when it signed in
  std::string display_name;
  bool must_change_password = false;
  int64_t created_s = 0;
  int64_t last_seen_s = 0;
  int64_t expires_at = 0;  // min(last_seen + idle, created + absolute)
  // This session's own absolute limit, if shorter than the console's (a RAM
  // user's LoginSessionDuration); 0: the console's.
  int64_t absolute_seconds = 0;
  // The login profile's MFABindRequired, no device yet: only MFA enrolment
  // (binding one ends the session: the user signs in again with a code).
  bool must_bind_mfa = false;
};

struct ConsoleSessionLimits {
  int64_t idle_seconds = 30 * 60;
  int64_t absolute_seconds = 12 * 3600;
};

class ConsoleSessions {
 public:
  explicit ConsoleSessions(ConsoleSessionLimits limits = {}) : limits_(limits) {}

  ConsoleSession create(iam::Principal p, std::string user_id, int64_t login_generation, std::string display_name,
                        bool must_change_password, int64_t now, int64_t absolute_seconds = 0);
  // The session for a cookie value, its idle timer restarted; nullopt if unknown or expired.
  std::optional<ConsoleSession> touch(std::string_view id, int64_t now);
  void remove(std::string_view id);
  // After the session's own password change: the login moved to `generation`
  // and this session moves with it (every other session of the login has ended).
  void password_changed(std::string_view id, int64_t generation);
  void must_bind_mfa(std::string_view id);
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

}  // namespace sluice::api
