#pragma once
// A growable byte buffer that does not zero what it grows into, for bodies
// written in place (a rule's webhook / NATS envelope, the rules log's records;
// issue 19). std::string
// zeroes on resize: growing a batch body by its bound before writing it cost
// ~230 instructions per entry (memset under callgrind, one per byte).
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace sluice::common {

class OutBuffer {
 public:
  // At least `n` writable bytes at the end (not yet part of the contents).
  char* room(size_t n) {
    if (n > cap_ - len_) grow(n);
    return data_.get() + len_;
  }
  // The contents end at `end` (within what room() gave).
  void commit(const char* end) { len_ = static_cast<size_t>(end - data_.get()); }
  void append(std::string_view s) {
    if (!s.empty()) std::memcpy(room(s.size()), s.data(), s.size());
    len_ += s.size();
  }
  void push_back(char c) {
    *room(1) = c;
    ++len_;
  }
  void resize_down(size_t n) { len_ = std::min(n, len_); }
  void clear() { len_ = 0; }
  // Frees the memory (a burst's big body is not kept).
  void release() {
    data_.reset();
    len_ = cap_ = 0;
  }

  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  size_t capacity() const { return cap_; }
  std::string_view view() const { return {data_.get(), len_}; }

 private:
  void grow(size_t n) {
    const size_t cap = std::max(len_ + n, std::max<size_t>(cap_ * 2, 256));
    auto d = std::make_unique_for_overwrite<char[]>(cap);
    if (len_ != 0) std::memcpy(d.get(), data_.get(), len_);
    data_ = std::move(d);
    cap_ = cap;
  }
  std::unique_ptr<char[]> data_;
  size_t len_ = 0, cap_ = 0;
};

}  // namespace sluice::common
