#include "common/iso_time.hpp"

#include <ctime>

namespace sluice::common {

std::string iso8601_utc(int64_t unix_seconds) {
  char buf[32];
  std::time_t tt = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace sluice::common
