#include "cluster/peer_calls.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cluster/leases.hpp"
#include "cluster/nats_link.hpp"
#include "cluster/test_nats.hpp"

using namespace sluice::cluster;

namespace {
struct Node {
  explicit Node(const std::vector<std::string>& urls, const std::string& name)
      : link([&] {
          NatsOptions o;
          o.urls = urls;
          o.name = name;
          return o;
        }()),
        leases(link, name),
        calls(link, leases, name) {}
  NatsLink link;
  NodeLeases leases;
  PeerCalls calls;
};

bool wait_for(auto pred) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  while (!pred() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return pred();
}
}  // namespace

// Every other node alive answers, the asker not (its own answer is its
// caller's business), and the call returns as soon as the last one has.
TEST(PeerCalls, EveryOtherNodeAnswersOnce) {
  sluice::cluster::testing::TestNats nats;
  Node a(nats.urls(), "a"), b(nats.urls(), "b"), c(nats.urls(), "c");
  for (Node* n : {&a, &b, &c}) {
    n->leases.start();
    const std::string name = n == &a ? "a" : n == &b ? "b" : "c";
    n->calls.start([name](std::string_view q) { return name + " says " + std::string(q); });
  }
  ASSERT_TRUE(wait_for([&] { return a.leases.others_alive() == std::vector<std::string>{"b", "c"}; }));
  ASSERT_TRUE(wait_for([&] { return a.leases.settled(); }));
  const auto t0 = std::chrono::steady_clock::now();
  auto answers = a.calls.ask_all("hello");
  const auto took = std::chrono::steady_clock::now() - t0;
  std::sort(answers.begin(), answers.end());
  EXPECT_EQ(answers, (std::vector<std::string>{"b says hello", "c says hello"}));
  EXPECT_LT(took, std::chrono::milliseconds(PeerCalls::kTimeoutMs / 2)) << "waited for nobody";
  for (Node* n : {&a, &b, &c}) n->leases.stop();
}

// A node alive but not answering (stopped answering, or an older build) is
// left out after the time limit; the others' answers still count.
TEST(PeerCalls, ASilentNodeIsLeftOutAfterTheTimeLimit) {
  sluice::cluster::testing::TestNats nats;
  Node a(nats.urls(), "a"), b(nats.urls(), "b"), c(nats.urls(), "c");
  for (Node* n : {&a, &b, &c}) n->leases.start();
  b.calls.start([](std::string_view) { return std::string("b"); });
  c.calls.start([](std::string_view) { return std::string("c"); });
  ASSERT_TRUE(wait_for([&] { return a.leases.others_alive().size() == 2; }));
  ASSERT_TRUE(wait_for([&] { return a.leases.settled(); }));
  c.calls.stop();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(a.calls.ask_all("q"), std::vector<std::string>{"b"});
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(PeerCalls::kTimeoutMs - 100));
  for (Node* n : {&a, &b, &c}) n->leases.stop();
}

// Just started, a node has not heard the others yet: it waits for whoever
// answers. Then alone: nobody to ask, no wait.
TEST(PeerCalls, ANewNodeWaitsForWhoeverAnswersThenAloneAsksNobody) {
  sluice::cluster::testing::TestNats nats;
  Node a(nats.urls(), "a"), b(nats.urls(), "b");
  b.calls.start([](std::string_view) { return std::string("b, not beating yet"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // its SUB reaches the server
  a.leases.start();
  a.calls.start([](std::string_view) { return std::string("never"); });
  EXPECT_EQ(a.calls.ask_all("q"), std::vector<std::string>{"b, not beating yet"});
  b.calls.stop();
  ASSERT_TRUE(wait_for([&] { return a.leases.settled(); }));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(a.calls.ask_all("q").empty());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
  a.leases.stop();
}
