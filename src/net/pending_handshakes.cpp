#include "net/pending_handshakes.hpp"

namespace sluice::net {

bool PendingHandshakes::begin(const std::string& source) {
  if (max_ == 0) return true;  // no cap: nothing to count (end() then finds nothing)
  std::lock_guard lock(mu_);
  uint32_t& n = count_[source];
  if (n >= max_) return false;  // n > 0 here: a refused address leaves no zero entry behind
  ++n;
  return true;
}

void PendingHandshakes::end(const std::string& source) {
  std::lock_guard lock(mu_);
  auto it = count_.find(source);
  if (it == count_.end()) return;
  if (--it->second == 0) count_.erase(it);
}

size_t PendingHandshakes::sources() {
  std::lock_guard lock(mu_);
  return count_.size();
}

}  // namespace sluice::net
