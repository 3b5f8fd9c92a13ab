#include "api/console_sessions.hpp"

#include "api/encoding.hpp"
#include "store/crypto.hpp"

namespace sluice::api {

namespace {
std::string key_of(std::string_view id) { return store::sha256_hex(id); }
}  // namespace

int64_t ConsoleSessions::expiry(const ConsoleSession& s) const {
  const int64_t absolute = s.absolute_seconds > 0 ? std::min(s.absolute_seconds, limits_.absolute_seconds)
                                                  : limits_.absolute_seconds;
  return std::min(s.last_seen_s + limits_.idle_seconds, s.created_s + absolute);
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

ConsoleSession ConsoleSessions::create(iam::Principal p, std::string user_id, int64_t login_generation,
                                       std::string display_name, bool must_change_password, int64_t now,
                                       int64_t absolute_seconds) {
  ConsoleSession s;
  s.id = hex(store::random_bytes(32));
  s.csrf = hex(store::random_bytes(32));
  s.principal = std::move(p);
  s.user_id = std::move(user_id);
  s.login_generation = login_generation;
  s.display_name = std::move(display_name);
  s.must_change_password = must_change_password;
  s.absolute_seconds = absolute_seconds;
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

void ConsoleSessions::password_changed(std::string_view id, int64_t generation) {
  std::lock_guard lk(mu_);
  if (auto it = by_hash_.find(key_of(id)); it != by_hash_.end()) {
    it->second.must_change_password = false;
    it->second.login_generation = generation;
  }
}

void ConsoleSessions::must_bind_mfa(std::string_view id) {
  std::lock_guard lk(mu_);
  if (auto it = by_hash_.find(key_of(id)); it != by_hash_.end()) it->second.must_bind_mfa = true;
}

size_t ConsoleSessions::size() {
  std::lock_guard lk(mu_);
  return by_hash_.size();
}

}  // namespace sluice::api
