#pragma once
// Broker counters. Each event-loop thread owns one WorkerStats and is its only
// writer (relaxed store of load+1: no locked instruction on the hot path); the
// /metrics scraper sums them.
#include <atomic>
#include <cstdint>

namespace sluice::broker {

struct alignas(64) WorkerStats {
  std::atomic<uint64_t> messages_in{0};
  std::atomic<uint64_t> messages_out{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<uint64_t> dropped{0};          // queue overflow, expiry, oversize
  std::atomic<uint64_t> connects{0};
  std::atomic<uint64_t> protocol_errors{0};
  std::atomic<uint64_t> batched_sends{0};    // socket writes sent in an io_uring batch

  static void add(std::atomic<uint64_t>& c, uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

}  // namespace sluice::broker
