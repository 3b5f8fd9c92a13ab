#pragma once
// The console's saved MFA check (the security preference EnableSaveMFATicket,
// issue 21): after a sign-in with a code, a cookie that stands for a code of
// that user's device for 7 days, as the cloud's console offers. It names the
// user's id and the device's serial and is MACed with a key of this process: a
// restart (or another node) forgets every ticket, and the user is asked again.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "iam/iam_service.hpp"

namespace sluice::api {

class MfaTickets {
 public:
  static constexpr int64_t kSeconds = 7 * 24 * 3600;
  static constexpr const char* kCookie = "sluice_mfa";

  MfaTickets();
  std::string issue(const iam::IamService::MfaTicket& t, int64_t now) const;  // the cookie's value
  // The ticket of a cookie value whose MAC is right and which has not expired.
  std::optional<iam::IamService::MfaTicket> check(std::string_view cookie, int64_t now) const;

 private:
  std::string key_;
};

}  // namespace sluice::api
