#include "api/mfa_ticket.hpp"

#include <charconv>

#include "common/crypto.hpp"
#include "store/crypto.hpp"

namespace sluice::api {

namespace {
std::optional<std::string> unhex(std::string_view h) {
  if (h.size() % 2) return std::nullopt;
  std::string out;
  out.reserve(h.size() / 2);
  for (size_t i = 0; i < h.size(); i += 2) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(h.data() + i, h.data() + i + 2, v, 16);
    if (ec != std::errc() || p != h.data() + i + 2) return std::nullopt;
    out.push_back(static_cast<char>(v));
  }
  return out;
}
}  // namespace

MfaTickets::MfaTickets() : key_(store::random_bytes(32)) {}

std::string MfaTickets::issue(const iam::IamService::MfaTicket& t, int64_t now) const {
  const std::string payload = t.user_id + "\n" + t.serial + "\n" + std::to_string(now + kSeconds);
  return common::hex(payload) + "." + common::hex(common::hmac_sha256(key_, payload));
}

std::optional<iam::IamService::MfaTicket> MfaTickets::check(std::string_view cookie, int64_t now) const {
  if (cookie.empty() || cookie.size() > 2048) return std::nullopt;
  const size_t dot = cookie.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto payload = unhex(cookie.substr(0, dot));
  auto mac = unhex(cookie.substr(dot + 1));
  if (!payload || !mac || !common::constant_time_equal(*mac, common::hmac_sha256(key_, *payload))) return std::nullopt;
  const size_t a = payload->find('\n'), b = payload->rfind('\n');
  if (a == std::string::npos || a == b) return std::nullopt;
  int64_t expiry = 0;
  const std::string_view e = std::string_view(*payload).substr(b + 1);
  auto [p, ec] = std::from_chars(e.data(), e.data() + e.size(), expiry);
  if (ec != std::errc() || p != e.data() + e.size() || expiry <= now) return std::nullopt;
  return iam::IamService::MfaTicket{payload->substr(0, a), payload->substr(a + 1, b - a - 1)};
}

}  // namespace sluice::api
