// When a loop may sleep to coalesce reads (Worker::maybe_coalesce): only a
// busy loop fed a few QoS 0 PUBLISHes, never with a reply owed or when off.
#include <gtest/gtest.h>

#include "net/worker.hpp"

namespace sluice::net {
namespace {

TEST(Coalesce, BusyLoopOfFewQos0PublishesSleeps) {
  EXPECT_TRUE(should_coalesce(50, /*busy=*/true, /*urgent=*/false, 1));
  EXPECT_TRUE(should_coalesce(50, true, false, 63));
}

TEST(Coalesce, NeverWhenOffIdleUrgentEmptyOrFull) {
  EXPECT_FALSE(should_coalesce(0, true, false, 4));     // [mqtt] coalesce_us = 0
  EXPECT_FALSE(should_coalesce(50, false, false, 4));   // the wait blocked: a lone message, keep latency
  EXPECT_FALSE(should_coalesce(50, true, true, 4));     // a sender may be waiting for our reply
  EXPECT_FALSE(should_coalesce(50, true, false, 0));    // only writes (EPOLLOUT) or hang-ups
  EXPECT_FALSE(should_coalesce(50, true, false, 64));   // reads already bring batches (closed loop)
}

}  // namespace
}  // namespace sluice::net
