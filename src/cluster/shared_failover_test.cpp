#include "cluster/shared_failover.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cluster/leases.hpp"
#include "cluster/nats_link.hpp"
#include "cluster/test_nats.hpp"

using namespace sluice::cluster;

namespace {
sluice::broker::Message message(uint64_t seq, uint64_t key) {
  sluice::broker::Message m;
  m.topic = "t";
  m.log_seq = seq;
  m.route_key = key * 0x9E3779B97F4A7C15ull;
  return m;
}
}  // namespace

// A dead member node's share (docs/cluster.md): each message it won goes to
// exactly one survivor, the same one every survivor computes, and no survivor
// takes a message the dead node did not win.
TEST(SharedFailover, EachMessageOfTheDeadNodeGoesToExactlyOneSurvivor) {
  const std::vector<SharedGroups::Member> then = {{"n1", 0}, {"n2", 0}, {"n3", 0}, {"n4", 0}};
  size_t dead_won = 0;
  for (uint64_t k = 1; k < 5000; ++k) {
    const auto m = message(1000 + k, k);
    std::vector<const std::string*> all;
    for (const auto& n : then) all.push_back(&n.node);
    const bool won = SharedGroups::winner(all, SharedGroups::key_of(m.route_key, m.topic)) == "n1";
    int takers = 0;
    for (const char* self : {"n2", "n3", "n4"}) takers += takes_over(then, "n1", self, m) ? 1 : 0;
    EXPECT_EQ(takers, won ? 1 : 0) << k;
    dead_won += won;
  }
  EXPECT_GT(dead_won, 1000u);  // about a quarter
  EXPECT_LT(dead_won, 1500u);
}

// A member whose join came after the message was not counted when it was
// routed: it takes nothing of it, and the dead node's win is judged without it.
TEST(SharedFailover, AMemberThatJoinedLaterIsNotCountedForEarlierMessages) {
  const std::vector<SharedGroups::Member> then = {{"n1", 5}, {"n2", 5}, {"n3", 500}};
  for (uint64_t k = 1; k < 2000; ++k) {
    const auto early = message(100, k);
    EXPECT_FALSE(takes_over(then, "n1", "n3", early));
    std::vector<std::string> two = {"n1", "n2"};
    std::vector<const std::string*> p = {&two[0], &two[1]};
    EXPECT_EQ(takes_over(then, "n1", "n2", early),
              SharedGroups::winner(p, SharedGroups::key_of(early.route_key, early.topic)) == "n1");
  }
  // Not a member yet itself: nothing to take over.
  EXPECT_FALSE(takes_over({{"n1", 5}, {"n2", 5}}, "n1", "n9", message(100, 1)));
  // The dead node had not joined when the message was routed: not its share.
  for (uint64_t k = 1; k < 200; ++k) EXPECT_FALSE(takes_over({{"n1", 500}, {"n2", 5}}, "n1", "n2", message(100, k)));
}

// The heartbeat carries what the node had routed (sampled kFrontierLagMs
// before): the frontier a survivor re-decides a dead node's share after. A
// node that does not say (an older one) has none.
TEST(SharedFailover, TheHeartbeatCarriesTheRoutedFrontier) {
  sluice::cluster::testing::TestNats nats;
  NatsOptions oa;
  oa.urls = nats.urls();
  oa.name = "a";
  NatsOptions ob = oa;
  ob.name = "b";
  NatsLink la(oa), lb(ob);
  NodeLeases na(la, "a"), nb(lb, "b");
  std::atomic<uint64_t> routed{42};
  na.set_frontier([&] { return routed.load(); });
  na.start();
  nb.start();
  auto wait = [](auto pred) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(4);
    while (!pred() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return pred();
  };
  EXPECT_TRUE(wait([&] { return nb.frontier_of("a") == std::optional<uint64_t>(42); }));
  routed = 1000;
  EXPECT_TRUE(wait([&] { return nb.frontier_of("a") == std::optional<uint64_t>(1000); }));
  EXPECT_TRUE(nb.alive("a"));
  EXPECT_FALSE(na.frontier_of("b").has_value()) << "b does not say";
  EXPECT_FALSE(nb.frontier_of("c").has_value());
  nb.stop();
  na.stop();
}
