#include "api/audit_refusals.hpp"

#include "api/json_writer.hpp"

namespace sluice::api {

namespace {
const std::string kShared = "*";  // the source of the window addresses share past max_sources

std::string key_of(const std::string& source, const std::string& code) { return source + '\n' + code; }
}  // namespace

bool RefusalAggregator::admit(const AuditEvent& e, Clock::time_point now) {
  std::string key = key_of(e.source_ip, e.error_code);
  auto it = windows_.find(key);
  if (it == windows_.end() && windows_.size() >= max_sources_) {
    key = key_of(kShared, e.error_code);
    it = windows_.find(key);
  }
  if (it != windows_.end()) {
    Window& w = it->second;
    if (now - w.start < window_) {
      ++w.counted;
      w.last = e;
      return false;
    }
    // Ended, and due() has not run since: its summary goes out with the next due().
    if (w.counted > 0) ready_.push_back(summary(it->first, w));
    windows_.erase(it);
  }
  Window w;
  w.start = now;
  w.first_ms = e.time_ms;
  windows_.emplace(std::move(key), std::move(w));
  return true;
}

std::vector<AuditEvent> RefusalAggregator::due(Clock::time_point now, bool all) {
  std::vector<AuditEvent> out;
  out.swap(ready_);
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (!all && now - it->second.start < window_) {
      ++it;
      continue;
    }
    if (it->second.counted > 0) out.push_back(summary(it->first, it->second));
    it = windows_.erase(it);
  }
  return out;
}

AuditEvent RefusalAggregator::summary(const std::string& key, const Window& w) const {
  AuditEvent s = w.last;  // event type, name, reason and status of what was counted
  s.id = 0;
  const std::string source = key.substr(0, key.find('\n'));
  s.source_ip = source;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(window_).count();
  JsonWriter p;
  p.begin_object();
  p.field("Aggregated", true);
  p.field("Count", static_cast<int64_t>(w.counted));
  p.field("FirstEventTimeMs", w.first_ms);
  p.field("LastEventTimeMs", w.last.time_ms);
  p.field("WindowSeconds", static_cast<int64_t>(seconds));
  p.end_object();
  s.parameters = std::move(p.str());
  s.error_message = std::to_string(w.counted) + " more refused like this from " +
                    (source == kShared ? std::string("addresses past the tracked limit") : source) + " within " +
                    std::to_string(seconds) + " s of the first, counted here instead of recorded one by one: " +
                    w.last.error_message;
  return s;
}

}  // namespace sluice::api
