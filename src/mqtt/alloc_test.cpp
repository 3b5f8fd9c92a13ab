// The PUBLISH hot paths do not allocate: parse() into a reused Packet, and
// encode() into a string that already has room. Counted by replacing the
// global operator new for this test binary.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "mqtt/codec.hpp"
#include "mqtt/test_util.hpp"

namespace {
std::atomic<long> g_allocs{0};
}

// The replacement pair is malloc/free on purpose; GCC's heuristic cannot see
// that operator new below is the one paired with these deletes.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace sluice::mqtt {
namespace {

TEST(Allocations, ParsePublishDoesNotAllocate) {
  for (Version v : {Version::V3_1_1, Version::V5}) {
    Publish m;
    m.topic = "sensors/room-1/temperature";
    m.payload = "21.5";
    std::string q0, q1;
    encode(m, v, q0);
    m.qos = 1;
    m.packet_id = 9;
    if (v == Version::V5) m.props.message_expiry_interval = 30;
    encode(m, v, q1);
    Parser p = test::server(v);
    Packet pkt;
    ASSERT_EQ(p.parse(q0, pkt).status, ParseStatus::Ok);  // first parse may build the alternative
    const long before = g_allocs.load();
    for (int i = 0; i < 100; ++i) {
      ASSERT_EQ(p.parse(q0, pkt).status, ParseStatus::Ok);
      ASSERT_EQ(p.parse(q1, pkt).status, ParseStatus::Ok);
    }
    EXPECT_EQ(g_allocs.load() - before, 0);
  }
}

TEST(Allocations, EncodePublishIntoReservedStringDoesNotAllocate) {
  Publish m;
  m.topic = "sensors/room-1/temperature";
  m.payload = "21.5";
  m.qos = 1;
  m.packet_id = 1;
  std::string out;
  out.reserve(4096);
  const long before = g_allocs.load();
  for (int i = 0; i < 20; ++i) encode(m, Version::V5, out);
  EXPECT_EQ(g_allocs.load() - before, 0);
  EXPECT_EQ(out.size(), 20 * encoded_size(m, Version::V5));
}

}  // namespace
}  // namespace sluice::mqtt
