#pragma once
#include <chrono>
#include <cstdint>

namespace sluice::broker {

// Monotonic milliseconds: expiry, keep alive and timers never follow wall-clock jumps.
inline int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace sluice::broker
