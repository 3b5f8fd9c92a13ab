#pragma once
// The one textual time format the cloud API, the audit log, policy conditions
// (acs:CurrentTime) and `sluice admin` print: ISO 8601 in UTC, to the second.
#include <cstdint>
#include <string>

namespace sluice::common {

// 1714564800 -> "2024-05-01T12:00:00Z"
std::string iso8601_utc(int64_t unix_seconds);

}  // namespace sluice::common
