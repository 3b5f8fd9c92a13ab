#include "api/console_sessions.hpp"

#include "api/encoding.hpp"
#include "store/crypto.hpp"

namespace sluice::api {

namespace {
std::string key_of(std::string_view id) { return store::sha256_hex(id); }
}  // namespace

int64_t ConsoleSessions::expiry(const ConsoleSession& s) const {
  return std::min(s.last_seen_s + limits_.idle_seconds, s.created_s + limits_.absolute_seconds);
}

void ConsoleSessions::expire_locked(int64_t now) {
  // At most once a minute: a sweep walks every session.
  if (now - last_sweep_ < 60) return;
  last_sweep_ = now;
  for (auto it = by_hash_.begin(); it != by_hash_.end();) {
    if (expiry(it->second) <= now)
      it = by_hash_.erase(it);
    else
      ++it;
  }
}

ConsoleSession ConsoleSessions::create(iam::Principal p, std::string display_name, bool must_change_password,
                                       int64_t now) {
  ConsoleSession s;
  s.id = hex(store::random_bytes(32));
  s.csrf = hex(store::random_bytes(32));
  s.principal = std::move(p);
  s.display_name = std::move(display_name);
  s.must_change_password = must_change_password;
  s.created_s = s.last_seen_s = now;
  s.expires_at = expiry(s);
  std::lock_guard lk(mu_);
  expire_locked(now);
  by_hash_[key_of(s.id)] = s;
  return s;
}

std::optional<ConsoleSession> ConsoleSessions::touch(std::string_view id, int64_t now) {
  if (id.empty()) return std::nullopt;
  std::lock_guard lk(mu_);
  expire_locked(now);
  auto it = by_hash_.find(key_of(id));
  if (it == by_hash_.end()) return std::nullopt;
  if (expiry(it->second) <= now) {
    by_hash_.erase(it);
    return std::nullopt;
  }
  it->second.last_seen_s = now;
  it->second.expires_at = expiry(it->second);
  return it->second;
}

void ConsoleSessions::remove(std::string_view id) {
  std::lock_guard lk(mu_);
  by_hash_.erase(key_of(id));
}

void ConsoleSessions::set_must_change_password(std::string_view id, bool v) {
  std::lock_guard lk(mu_);
  if (auto it = by_hash_.find(key_of(id)); it != by_hash_.end()) it->second.must_change_password = v;
}

size_t ConsoleSessions::size() {
  std::lock_guard lk(mu_);
  return by_hash_.size();
}

int64_t LoginThrottle::retry_after(const std::string& addr, int64_t now) {
  std::lock_guard lk(mu_);
  auto it = by_addr_.find(addr);
  if (it == by_addr_.end()) return 0;
  if (now - it->second.start >= 60) {
    by_addr_.erase(it);
    return 0;
  }
  return it->second.count >= per_minute_ ? it->second.start + 60 - now : 0;
}

void LoginThrottle::failed(const std::string& addr, int64_t now) {
  std::lock_guard lk(mu_);
  if (by_addr_.size() > 100000) by_addr_.clear();  // bounded memory under a spray of addresses
  auto& w = by_addr_[addr];
  if (now - w.start >= 60) w = Window{now, 0};
  ++w.count;
}

}  // namespace sluice::api
