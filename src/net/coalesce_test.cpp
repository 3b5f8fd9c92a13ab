// When a loop may sleep to coalesce reads (net/coalesce.hpp): a busy loop fed a
// few PUBLISHes; with replies owed only while the probe finds the senders paced.
#include <gtest/gtest.h>

#include "net/coalesce.hpp"

namespace sluice::net {
namespace {

TEST(Coalesce, BusyLoopOfFewQos0PublishesSleeps) {
  EXPECT_TRUE(should_coalesce(50, /*busy=*/true, Owes::Nothing, 1, /*replies_may_wait=*/false));
  EXPECT_TRUE(should_coalesce(50, true, Owes::Nothing, 63, false));
}

TEST(Coalesce, NeverWhenOffIdleUrgentEmptyOrFull) {
  EXPECT_FALSE(should_coalesce(0, true, Owes::Nothing, 4, true));      // [mqtt] coalesce_us = 0
  EXPECT_FALSE(should_coalesce(50, false, Owes::Nothing, 4, true));    // the wait blocked: a lone message, keep latency
  EXPECT_FALSE(should_coalesce(50, true, Owes::Attention, 4, true));   // a CONNECT, SUBSCRIBE, new connection...
  EXPECT_FALSE(should_coalesce(50, true, Owes::Nothing, 0, true));     // only writes (EPOLLOUT) or hang-ups
  EXPECT_FALSE(should_coalesce(50, true, Owes::Nothing, 64, true));    // reads already bring batches (closed loop)
}

TEST(Coalesce, RepliesOwedSleepOnlyOnTheProbesWord) {
  EXPECT_FALSE(should_coalesce(50, true, Owes::Reply, 4, false));
  EXPECT_TRUE(should_coalesce(50, true, Owes::Reply, 4, true));
  EXPECT_EQ(Owes::Nothing | Owes::Reply, Owes::Reply);
  EXPECT_EQ(Owes::Attention | Owes::Reply, Owes::Attention);
}

// Feeds the probe 100 µs iterations for `ms` ms: packets per ms and CPU ns per
// packet, each depending on whether the loop sleeps.
struct Load {
  double rate_sleeping, rate_eager;  // packets per ms
  double cpu_sleeping, cpu_eager;    // ns per packet
};
int64_t run(CoalesceProbe& p, int64_t t, int64_t ms, Load l, int64_t& cpu) {
  for (int64_t end = t + ms * 1'000'000; t < end; t += 100'000) {
    const bool sleeping = p.replies_may_wait();
    const auto packets = uint32_t((sleeping ? l.rate_sleeping : l.rate_eager) / 10);
    p.count(packets, t, [&] { return cpu; });
    cpu += int64_t(packets * (sleeping ? l.cpu_sleeping : l.cpu_eager));
  }
  return t;
}

TEST(Coalesce, ProbeLetsPacedSendersWaitWhenItSaves) {
  CoalesceProbe paced;
  int64_t cpu = 0;
  EXPECT_FALSE(paced.replies_may_wait());  // eager until a probe says otherwise
  const Load batching{60, 60, 4'000, 8'000};  // the same rate either way, half the CPU asleep
  int64_t t = run(paced, 1, 30, batching, cpu);
  EXPECT_TRUE(paced.replies_may_wait());
  t = run(paced, t, 900, batching, cpu);
  EXPECT_TRUE(paced.replies_may_wait());
}

TEST(Coalesce, ProbeKeepsWindowedSendersAndUselessSleepsEager) {
  int64_t cpu = 0;
  CoalesceProbe windowed;
  int64_t t = run(windowed, 1, 30, {40, 60, 4'000, 8'000}, cpu);  // sleeping loses a third
  EXPECT_FALSE(windowed.replies_may_wait());
  // The load changes to paced: the next probe (a second later) notices.
  t = run(windowed, t, 1100, {60, 60, 4'000, 8'000}, cpu);
  EXPECT_TRUE(windowed.replies_may_wait());

  CoalesceProbe fan_out;  // acknowledgements one per socket: sleeping saves nothing
  t = run(fan_out, 1, 30, {100, 100, 7'800, 7'500}, cpu);
  EXPECT_FALSE(fan_out.replies_may_wait());

  CoalesceProbe idle;
  t = run(idle, 1, 30, {0, 0, 0, 0}, cpu);
  EXPECT_FALSE(idle.replies_may_wait());
}

}  // namespace
}  // namespace sluice::net
