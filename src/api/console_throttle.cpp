#include "api/console_throttle.hpp"

#include <algorithm>

namespace sluice::api {

namespace {
std::string pair_key(const std::string& login, const std::string& addr) { return login + '\x1f' + addr; }

// Over the bound, windows that have ended go first; if a spray keeps the map
// full of live windows, it is emptied (the throttle forgets, memory stays bounded).
template <class Map, class Expired>
void bound(Map& m, Expired expired) {
  if (m.size() < LoginThrottle::kMaxEntries) return;
  std::erase_if(m, expired);
  if (m.size() >= LoginThrottle::kMaxEntries) m.clear();
}
}  // namespace

int64_t LoginThrottle::wait_locked(Windows& m, const std::string& key, int limit, int64_t now) {
  auto it = m.find(key);
  if (it == m.end()) return 0;
  if (now - it->second.start >= 60) {
    m.erase(it);
    return 0;
  }
  return it->second.count >= limit ? it->second.start + 60 - now : 0;
}

void LoginThrottle::count_locked(Windows& m, const std::string& key, int64_t now) {
  bound(m, [now](const auto& kv) { return now - kv.second.start >= 60; });
  auto& w = m[key];
  if (now - w.start >= 60) w = Window{now, 0};
  ++w.count;
}

int64_t LoginThrottle::retry_after(const std::string& addr, const std::string& login, int64_t now) {
  std::lock_guard lk(mu_);
  int64_t wait = wait_locked(by_addr_, addr, limits_.per_address_per_minute, now);
  auto known = known_.find(pair_key(login, addr));
  const bool exempt = known != known_.end() && now - known->second < kKnownAddressSeconds;
  if (!exempt) wait = std::max(wait, wait_locked(by_login_, login, limits_.per_login_per_minute, now));
  return wait;
}

void LoginThrottle::failed(const std::string& addr, const std::string& login, int64_t now) {
  std::lock_guard lk(mu_);
  count_locked(by_addr_, addr, now);
  count_locked(by_login_, login, now);
}

void LoginThrottle::succeeded(const std::string& addr, const std::string& login, int64_t now) {
  std::lock_guard lk(mu_);
  bound(known_, [now](const auto& kv) { return now - kv.second >= kKnownAddressSeconds; });
  known_[pair_key(login, addr)] = now;
}

}  // namespace sluice::api
