#pragma once
// API requests refused before anyone was identified (malformed or oversized
// HTTP, unsigned calls, unknown access keys: is_unidentified_refusal) cost
// their sender nothing, so one row each would let anyone grow the audit table
// as fast as they can send. They are aggregated:
// per source address and reason, the first refusal of a window is recorded as
// it happens and the rest of that window only counted; when the window ends,
// one more row gives the count. Under a flood the table grows by at most two
// rows per source and reason per window, for at most `max_sources` addresses
// at once: past that, new addresses share one window per reason (source "*").
// Not thread-safe: AuditLog calls it under its lock.
#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/audit.hpp"

namespace sluice::api {

class RefusalAggregator {
 public:
  using Clock = std::chrono::steady_clock;
  RefusalAggregator(std::chrono::milliseconds window, size_t max_sources)
      : window_(window), max_sources_(max_sources) {}
  // True: record `e` now (the first of its source and reason in this window).
  // False: counted into the window's summary.
  bool admit(const AuditEvent& e, Clock::time_point now);
  // The summary rows of windows that ended by `now` having counted something
  // (of every window when `all`, e.g. at shutdown); those windows close.
  std::vector<AuditEvent> due(Clock::time_point now, bool all = false);
  size_t tracked() const { return windows_.size(); }

 private:
  struct Window {
    Clock::time_point start;
    int64_t first_ms = 0;  // event time of the refusal that was recorded
    AuditEvent last;       // the latest counted one (its time, request id)
    uint64_t counted = 0;  // refusals after the first
  };
  AuditEvent summary(const std::string& key, const Window& w) const;

  const std::chrono::milliseconds window_;
  const size_t max_sources_;
  std::unordered_map<std::string, Window> windows_;  // key: source '\n' error code
  std::vector<AuditEvent> ready_;  // summaries of windows that ended inside admit()
};

}  // namespace sluice::api
