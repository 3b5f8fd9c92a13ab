// The per-instance message rate shared between the nodes of a cluster
// (broker/publish_rate.hpp, issue 17).
#include <gtest/gtest.h>

#include "broker/publish_rate.hpp"

namespace sluice::broker {

TEST(PublishRate, OneNodeHasTheWholeLimit) {
  PublishRate r;
  r.last = 5000;
  EXPECT_EQ(r.share(100), 0u);  // 0: the whole limit, as before clusters
}

TEST(PublishRate, SharesFollowDemandAndAddUpToTheLimit) {
  // Three live nodes: demand 60, 60 and 0 in the last second.
  PublishRate a, b, c;
  a.last = 60, b.last = 60, c.last = 0;
  a.remote = 60, b.remote = 60, c.remote = 120;
  a.remote_nodes = b.remote_nodes = c.remote_nodes = 2;
  const uint32_t sa = a.share(40), sb = b.share(40), sc = c.share(40);
  EXPECT_EQ(sa, sb);
  EXPECT_NEAR(sa, 19.5, 1.0);
  EXPECT_GE(sc, 1u);  // an idle node keeps a little, for a publisher that starts there
  EXPECT_LE(sa + sb + sc, 40u);
  EXPECT_GE(sa + sb + sc, 38u);
}

TEST(PublishRate, SharesDoNotSwingWithWhatWasAdmitted) {
  // Attempts, not admissions: the same demand gives the same shares every second.
  PublishRate a;
  a.remote_nodes = 1;
  for (int s = 0; s < 5; ++s) {
    a.last = 100;
    a.remote = 100;
    EXPECT_EQ(a.share(50), 50u * 101 / 202);
  }
}

TEST(PublishRate, LastSecondForTheHeartbeat) {
  PublishRate r;
  r.second = 10, r.count = 7, r.last = 3;
  EXPECT_EQ(r.last_second(10), 3u);  // the second before the current one
  EXPECT_EQ(r.last_second(11), 7u);  // no publish yet in 11: 10 was the last full second
  EXPECT_EQ(r.last_second(12), 0u);  // quiet since
}

}  // namespace sluice::broker
