#pragma once
// The decimal text of a number that mostly goes up by one: a rule's entries
// carry consecutive seqs (a QoS 0 entry's is 19-20 digits), and writing each
// with std::to_chars cost ~230 instructions per entry in the JSON envelope
// (callgrind, issue 19). The next number is the last text with its digits
// carried in place (~10 instructions); any other number is written in full.
#include <charconv>
#include <cstring>
#include <cstdint>
#include <string_view>

namespace sluice::common {

class DecimalCounter {
 public:
  // Bytes readable from of()'s data(), whatever its length: a caller with
  // room may copy this many at once (a fixed-size copy, no memcpy call).
  static constexpr unsigned kReadable = 24;

  // The text of `v` (valid until the next call).
  std::string_view of(uint64_t v) {
    if (len_ != 0 && v == last_ + 1 && v != 0) {
      increment();
    } else if (len_ == 0 || v != last_) {
      char* end = std::to_chars(buf_, buf_ + kMax, v).ptr;
      len_ = static_cast<unsigned>(end - buf_);
      start_ = kMax - len_;
      std::memmove(buf_ + start_, buf_, len_);
    }
    last_ = v;
    return {buf_ + start_, len_};
  }

 private:
  static constexpr unsigned kMax = 20;  // digits of UINT64_MAX
  void increment() {
    unsigned i = kMax;
    while (i > start_ && buf_[i - 1] == '9') buf_[--i] = '0';
    if (i > start_) {
      ++buf_[i - 1];
    } else {  // 99..9 + 1: one digit more (below kMax: UINT64_MAX + 1 is not taken here)
      buf_[--start_] = '1';
      ++len_;
    }
  }
  char buf_[kMax + kReadable] = {};  // the digits, right-aligned: [start_, kMax); then padding
  unsigned start_ = kMax, len_ = 0;
  uint64_t last_ = 0;
};

}  // namespace sluice::common
