#pragma once
// A small open-addressing map from an ASCII-case-insensitive string to a uint32,
// built once at compile time and read-only afterwards. Keys are views into the
// compiled set's documents. Look-ups hash the request's action as written: no
// lower-cased copy, no allocation.
#include <cstdint>
#include <string_view>
#include <vector>

#include "iam/policy/document.hpp"

namespace sluice::iam::policy {

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

class CiTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Sizes the table for at most `n` keys (it never grows: compile knows the bound).
  void reserve(size_t n) {
    size_t cap = 8;
    while (cap < n * 2) cap *= 2;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
  }
  // Returns the value stored for `key`, inserting `value` if the key is new.
  uint32_t insert(std::string_view key, uint32_t value) {
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.value == kNone) {
        s.key = key;
        s.value = value;
        return value;
      }
      if (iequal(s.key, key)) return s.value;
    }
  }
  uint32_t find(std::string_view key) const {
    if (slots_.empty()) return kNone;
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kNone) return kNone;
      if (iequal(s.key, key)) return s.value;
    }
  }

 private:
  struct Slot {
    std::string_view key;
    uint32_t value = kNone;
  };
  static size_t hash(std::string_view s) {
    uint64_t h = action_hash(s);
    return static_cast<size_t>(h ^ (h >> 29));
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace sluice::iam::policy
