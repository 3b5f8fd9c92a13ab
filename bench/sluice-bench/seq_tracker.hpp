#pragma once
// Which sequence numbers of one publisher a subscriber has seen: a growable
// bitmap, so loss and duplicates are exact whatever the arrival order
// (1 bit per message: 10 M messages cost 1.25 MB).
#include <cstdint>
#include <vector>

namespace sbench {

class SeqTracker {
 public:
  // Marks seq as seen; false if it had been seen already (a duplicate).
  bool mark(uint64_t seq) {
    size_t word = size_t(seq >> 6);
    if (word >= bits_.size()) bits_.resize(std::max(word + 1, bits_.size() * 2), 0);
    uint64_t bit = uint64_t(1) << (seq & 63);
    if (bits_[word] & bit) return false;
    bits_[word] |= bit;
    ++unique_;
    return true;
  }
  uint64_t unique() const { return unique_; }

 private:
  std::vector<uint64_t> bits_;
  uint64_t unique_ = 0;
};

}  // namespace sbench
