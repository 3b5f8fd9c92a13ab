// Per-namespace message counters (DescribeMqttMetaData): every publish counts
// in, every routed delivery counts out, whichever loop thread routed it.
#include <gtest/gtest.h>

#include "broker/namespace.hpp"

using namespace sluice::broker;

namespace {

class Sink : public Client {
 public:
  unsigned worker() const override { return 0; }
  bool send_publish(const Message&, uint8_t, uint16_t, bool, bool, uint32_t) override { return true; }
  void send_pubrel(uint16_t) override {}
  uint16_t receive_maximum() const override { return 65535; }
  bool congested() const override { return false; }
  void kick(sluice::mqtt::Reason) override {}
};

MessagePtr msg(std::string topic) {
  auto m = std::make_shared<Message>();
  m->topic = std::move(topic);
  m->payload = "x";
  return m;
}

}  // namespace

TEST(NamespaceCounts, InAndRoutedOut) {
  WorkerStats s0, s1;
  WorkerContext loop0{0, 2, s0}, loop1{1, 2, s1};
  Namespace ns{"t", NamespaceConfig{}};
  Sink a, b;
  auto sa = ns.connect("a", true, &a, 0).session;
  auto sb = ns.connect("b", true, &b, 0).session;
  SubOptions o;
  ns.subscribe(sa, "t/#", o);
  ns.subscribe(sb, "t/1", o);
  EXPECT_EQ(ns.message_counts().in, 0u);
  ns.publish(msg("t/1"), loop0);  // two subscribers
  ns.publish(msg("t/2"), loop1);  // one
  ns.publish(msg("u/1"), loop1);  // none
  auto c = ns.message_counts();
  EXPECT_EQ(c.in, 3u);
  EXPECT_EQ(c.out, 3u);
}
