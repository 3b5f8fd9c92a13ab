#pragma once
// A FIFO ring buffer that holds no memory while empty and small. Sessions
// keep two (in-flight and queued messages); most are empty most of the time,
// and idle connections are what a broker holds most of (libstdc++'s deque
// allocates ~600 bytes even when empty). Grows by doubling; gives a large
// buffer back when it drains.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace sluice::broker {

template <class T>
class Ring {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return buf_[(head_ + i) & (buf_.size() - 1)]; }
  T& front() { return buf_[head_]; }

  void push_back(T&& v) {
    if (size_ == buf_.size()) grow();
    buf_[(head_ + size_) & (buf_.size() - 1)] = std::move(v);
    ++size_;
  }
  void pop_front() {
    buf_[head_] = T{};
    head_ = (head_ + 1) & (buf_.size() - 1);
    if (--size_ == 0) drained();
  }
  // Removes element i, keeping the order of the rest.
  void erase_at(size_t i) {
    if (i == 0) return pop_front();
    for (size_t k = i; k + 1 < size_; ++k) (*this)[k] = std::move((*this)[k + 1]);
    (*this)[size_ - 1] = T{};
    if (--size_ == 0) drained();
  }
  // Index of the first element satisfying pred, or size().
  template <class P>
  size_t find_if(P pred) {
    for (size_t i = 0; i < size_; ++i)
      if (pred((*this)[i])) return i;
    return size_;
  }

 private:
  void grow() {
    std::vector<T> n(buf_.empty() ? 4 : buf_.size() * 2);
    for (size_t i = 0; i < size_; ++i) n[i] = std::move((*this)[i]);
    buf_.swap(n);
    head_ = 0;
  }
  void drained() {
    head_ = 0;
    if (buf_.size() > 64) std::vector<T>().swap(buf_);
  }
  std::vector<T> buf_;
  // 32-bit: a session's ring never nears 4G entries, and a Session holds two.
  uint32_t head_ = 0;
  uint32_t size_ = 0;
};

}  // namespace sluice::broker
