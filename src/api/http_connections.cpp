#include "api/http_connections.hpp"

namespace sluice::api {

HttpConnectionBudget::Verdict HttpConnectionBudget::admit(const std::string& source) {
  std::lock_guard lk(mu_);
  auto it = by_source_.find(source);
  const uint32_t mine = it == by_source_.end() ? 0 : it->second;
  if (per_source_ != 0 && mine >= per_source_) return Verdict::SourceFull;
  if (total_ != 0 && open_ >= total_) return Verdict::Full;
  ++open_;
  if (it == by_source_.end()) by_source_.emplace(source, 1);
  else ++it->second;
  return Verdict::Admit;
}

bool HttpConnectionBudget::admit_over_total(const std::string& source) {
  std::lock_guard lk(mu_);
  uint32_t& mine = by_source_[source];
  if (per_source_ != 0 && mine >= per_source_) {
    if (mine == 0) by_source_.erase(source);
    return false;
  }
  ++mine;
  ++open_;
  return true;
}

void HttpConnectionBudget::release(const std::string& source) {
  std::lock_guard lk(mu_);
  auto it = by_source_.find(source);
  if (it == by_source_.end()) return;
  --open_;
  if (--it->second == 0) by_source_.erase(it);
}

uint32_t HttpConnectionBudget::open() const {
  std::lock_guard lk(mu_);
  return open_;
}

size_t HttpConnectionBudget::sources() const {
  std::lock_guard lk(mu_);
  return by_source_.size();
}

}  // namespace sluice::api
