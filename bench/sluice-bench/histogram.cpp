#include "histogram.hpp"

#include <algorithm>
#include <bit>

namespace sbench {

// Values below kSub map to themselves; above, by exponent then the top kSubBits
// bits below the leading one. 57 exponents cover the whole uint64_t range.
size_t Histogram::index(uint64_t v) {
  if (v < kSub) return size_t(v);
  int e = 63 - std::countl_zero(v);  // >= kSubBits
  int shift = e - kSubBits;
  return size_t(kSub + uint64_t(shift) * kSub + ((v >> shift) - kSub));
}

uint64_t Histogram::value_at(size_t idx) {
  if (idx < kSub) return idx;
  uint64_t shift = (idx - kSub) / kSub, sub = (idx - kSub) % kSub;
  uint64_t lo = (kSub + sub) << shift;
  return lo + ((uint64_t(1) << shift) >> 1);  // bucket midpoint
}

Histogram::Histogram() : counts_(kSub + 57 * kSub, 0) {}

void Histogram::record(uint64_t v) {
  ++counts_[index(v)];
  ++count_;
  sum_ += v;
  max_ = std::max(max_, v);
}

void Histogram::merge(const Histogram& o) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  max_ = std::max(max_, o.max_);
}

uint64_t Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  // Rank of the wanted sample, 1-based, rounding up so p99.9 of 1000 samples is the largest.
  uint64_t rank = uint64_t(q * double(count_));
  if (double(rank) < q * double(count_)) ++rank;
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(value_at(i), max_);
  }
  return max_;
}

}  // namespace sbench
