#pragma once
// The rules log's outstanding entries (rule_log.hpp): where each one's record
// is in the file, by seq. Seqs are store tickets, so entries arrive in
// increasing order and mostly leave in it too: a deque in seq order (append at
// the back, binary search, a finished front popped) instead of a hash map,
// whose node allocation and hashing were ~640 instructions per entry on the
// store's writer (callgrind, issue 19). An entry finished out of order is
// marked and dropped once the front reaches it; the marks are swept when they
// outnumber the live entries (a rule stuck behind a target that is down while
// another flows), so memory stays proportional to what is outstanding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>

namespace sluice::persist {

class LiveIndex {
 public:
  struct Loc {
    uint64_t offset;
    uint32_t length;  // the whole record
  };

  void add(uint64_t seq, Loc loc) {
    if (slots_.empty() || seq > slots_.back().seq) {
      slots_.push_back(Slot{seq, loc, true});
      ++count_;
      return;
    }
    auto it = lower(seq);  // out of order (not in normal operation): kept sorted
    if (it != slots_.end() && it->seq == seq) {
      if (!it->live) ++count_;
      *it = Slot{seq, loc, true};
      return;
    }
    slots_.insert(it, Slot{seq, loc, true});
    ++count_;
  }

  // Removes `seq`; false if it is not outstanding. `length`: its record's.
  bool remove(uint64_t seq, uint32_t& length) {
    // Mostly the front (entries leave in order): no search then.
    auto it = !slots_.empty() && slots_.front().seq == seq ? slots_.begin() : lower(seq);
    if (it == slots_.end() || it->seq != seq || !it->live) return false;
    it->live = false;
    length = it->loc.length;
    --count_;
    while (!slots_.empty() && !slots_.front().live) slots_.pop_front();
    if (slots_.size() > 2 * count_ + 1024)
      slots_.erase(std::remove_if(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.live; }), slots_.end());
    return true;
  }

  size_t size() const { return count_; }
  size_t slots() const { return slots_.size(); }  // live and marked (tests: the sweep)
  bool empty() const { return count_ == 0; }
  void clear() {
    slots_.clear();
    count_ = 0;
  }
  // f(seq, Loc&) for each outstanding entry, in seq order.
  template <class F>
  void for_each(F&& f) {
    for (auto& s : slots_)
      if (s.live) f(s.seq, s.loc);
  }

 private:
  struct Slot {
    uint64_t seq;
    Loc loc;
    bool live;
  };
  std::deque<Slot>::iterator lower(uint64_t seq) {
    return std::lower_bound(slots_.begin(), slots_.end(), seq, [](const Slot& s, uint64_t v) { return s.seq < v; });
  }

  std::deque<Slot> slots_;  // in seq order
  size_t count_ = 0;        // live slots
};

}  // namespace sluice::persist
