#pragma once
// Latency histogram with log-linear buckets: 128 sub-buckets per power of two,
// so any recorded value is reported within 0.8 %, in a fixed 60 KB that never
// allocates while recording (one per worker thread, merged at the end).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sbench {

class Histogram {
 public:
  Histogram();
  void record(uint64_t value);
  void merge(const Histogram& other);
  // Value at quantile q in [0,1]; 0 when empty.
  uint64_t quantile(double q) const;
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? double(sum_) / double(count_) : 0.0; }

 private:
  static constexpr int kSubBits = 7;
  static constexpr uint64_t kSub = 1u << kSubBits;
  static size_t index(uint64_t v);
  static uint64_t value_at(size_t idx);

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0, sum_ = 0, max_ = 0;
};

}  // namespace sbench
