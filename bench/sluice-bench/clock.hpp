#pragma once
// One clock for the whole tool: publishers stamp payloads with it and subscribers
// subtract, so latency needs both ends in this process (they are).
#include <cstdint>
#include <ctime>

namespace sbench {

inline int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // what std::chrono::steady_clock uses on Linux, without the wrapper
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

constexpr int64_t kNsPerSec = 1'000'000'000;
constexpr int64_t kNsPerMs = 1'000'000;

}  // namespace sbench
