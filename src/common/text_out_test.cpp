// The rules envelope's helpers, each against the plain way of doing the same, on
// the edges: DecimalCounter (the seq text), json_plain (the topic check), OutBuffer;
// and FutexMutex (the rule runner's lock).
#include "common/decimal_counter.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/futex.hpp"
#include "common/json_string.hpp"
#include "common/out_buffer.hpp"

namespace sluice::common {
namespace {

TEST(DecimalCounter, RunsAndJumpsMatchToString) {
  DecimalCounter c;
  // Runs across every carry (9 -> 10, 99 -> 100, ...), a jump back, and a
  // QoS 0 seq (bit 63 set: 19 digits) counting up.
  const uint64_t starts[] = {0, 5, 95, 995, 999'990, 42, uint64_t(1) << 63 | 999, 9'999'999'999'999'999'990ull,
                             18'446'744'073'709'551'600ull, 7};
  for (uint64_t s : starts)
    for (uint64_t v = s; v < s + 15 && v >= s; ++v) ASSERT_EQ(c.of(v), std::to_string(v)) << s;
  EXPECT_EQ(c.of(7), "7");    // the same number again
  EXPECT_EQ(c.of(12), "12");  // forward, not by one
  EXPECT_EQ(c.of(3), "3");    // backwards
  EXPECT_EQ(c.of(UINT64_MAX), std::to_string(UINT64_MAX));
  EXPECT_EQ(c.of(0), "0");  // UINT64_MAX + 1 wraps: written in full, not carried
  DecimalCounter fresh;
  EXPECT_EQ(fresh.of(1), "1");  // a first number 1 is not taken as 0 + 1
}

bool escape_needed(std::string_view s) {
  for (char ch : s)
    if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) return true;
  return false;
}

TEST(JsonPlain, AgreesWithAByteLoop) {
  EXPECT_TRUE(json_plain(""));
  EXPECT_TRUE(json_plain("bench/s0"));
  EXPECT_TRUE(json_plain("Sensors/héllo/温度"));  // UTF-8 passes through
  EXPECT_FALSE(json_plain("a/\"b\""));
  // Every byte value at every position of strings 1-19 long (both the 8-byte
  // steps and the tail), the rest plain text.
  for (size_t len = 1; len < 20; ++len)
    for (size_t at = 0; at < len; ++at)
      for (int c = 0; c < 256; ++c) {
        std::string s(len, 'k');
        s[at] = static_cast<char>(c);
        ASSERT_EQ(json_plain(s), !escape_needed(s)) << len << " " << at << " " << c;
      }
}

// OutBuffer keeps what was written across growths, room() past the contents
// is not part of them, and release() frees and empties.
TEST(OutBuffer, KeepsContentsAcrossGrowth) {
  OutBuffer b;
  EXPECT_TRUE(b.empty());
  std::string want;
  for (int i = 0; i < 2000; ++i) {
    const std::string piece = std::to_string(i) + ",";
    if (i % 3 == 0) {
      b.append(piece);
    } else {
      char* p = b.room(piece.size() + 100);  // more room than used
      std::memcpy(p, piece.data(), piece.size());
      b.commit(p + piece.size());
    }
    want += piece;
  }
  b.push_back('!');
  want += '!';
  EXPECT_EQ(b.view(), want);
  b.resize_down(3);
  EXPECT_EQ(b.view(), want.substr(0, 3));
  b.clear();
  EXPECT_EQ(b.size(), 0u);
  EXPECT_GE(b.capacity(), want.size());
  b.release();
  EXPECT_EQ(b.capacity(), 0u);
  b.append("again");
  EXPECT_EQ(b.view(), "again");
}

}  // namespace
}  // namespace sluice::common

namespace sluice::common {
namespace {

// FutexMutex excludes: four threads adding to one plain counter under it,
// with waits (the contended path) forced by holding it across a yield.
TEST(FutexMutex, Excludes) {
  FutexMutex mu;
  long counter = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        std::lock_guard lk(mu);
        const long seen = counter;
        if (i % 1000 == 0) std::this_thread::yield();
        counter = seen + 1;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(counter, 80000);
  EXPECT_TRUE(mu.try_lock());
  EXPECT_FALSE(mu.try_lock());
  mu.unlock();
}

}  // namespace
}  // namespace sluice::common
