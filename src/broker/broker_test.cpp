// Unit tests of the broker core with a fake client: routing, the trie,
// retained messages, QoS flows, offline queues, takeover, wills, expiry.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <tuple>

#include "broker/broker.hpp"
#include "broker/clock.hpp"
#include "broker/namespace.hpp"

using namespace sluice::broker;

namespace {

struct Sent {
  std::string topic;
  std::string payload;
  uint8_t qos;
  uint16_t id;
  bool retain;
  bool dup;
  uint32_t sub_id;
};

class FakeClient : public Client {
 public:
  explicit FakeClient(unsigned w = 0) : w_(w) {}
  unsigned worker() const override { return w_; }
  bool send_publish(const Message& m, uint8_t qos, uint16_t id, bool retain, bool dup, uint32_t sub) override {
    sent.push_back({m.topic, m.payload, qos, id, retain, dup, sub});
    return true;
  }
  void send_pubrel(uint16_t id) override { pubrels.push_back(id); }
  uint16_t receive_maximum() const override { return rm; }
  bool congested() const override { return is_congested; }
  void kick(sluice::mqtt::Reason r) override { kicked = static_cast<int>(r); }
  bool may_receive(const Message& m) override { return !denied.count(m.topic); }
  std::set<std::string> denied;  // topics this client's principal may not receive
  std::vector<Sent> sent;
  std::vector<uint16_t> pubrels;
  uint16_t rm = 65535;
  bool is_congested = false;
  int kicked = -1;
  unsigned w_;
};

class CollectDispatcher : public Dispatcher {
 public:
  unsigned workers() const override { return 2; }
  void deliver(unsigned w, std::vector<RemoteDelivery>&& b) override {
    for (auto& d : b) remote.push_back({w, std::move(d)});
  }
  void post(unsigned, std::function<void()> t) override { t(); }
  void run(unsigned, std::function<void(WorkerContext&)>) override {}
  std::vector<std::pair<unsigned, RemoteDelivery>> remote;
};

MessagePtr msg(std::string topic, std::string payload, uint8_t qos = 0, bool retain = false) {
  auto m = std::make_shared<Message>();
  m->topic = std::move(topic);
  m->payload = std::move(payload);
  m->qos = qos;
  m->retain = retain;
  return m;
}

struct Fixture : ::testing::Test {
  WorkerStats stats;
  WorkerContext ctx{0, 2, stats};
  Namespace ns{"t", NamespaceConfig{}};
  SubOptions qos(uint8_t q) {
    SubOptions o;
    o.qos = q;
    return o;
  }
  // A persistent session subscribed to "t" at QoS 1 whose client `c` has gone:
  // what is published to "t" now queues.
  SessionPtr offline_subscriber(Namespace& n, const char* id, FakeClient& c) {
    auto r = n.connect(id, false, &c, 0);
    r.session->set_expiry_interval(3600);
    n.subscribe(r.session, "t", qos(1));
    n.disconnect(r.session, &c, {}, 0, ctx);
    return r.session;
  }
};

}  // namespace

TEST_F(Fixture, WildcardsMatchAndDollarTopicsAreSkipped) {
  FakeClient a, b, c, d;
  auto sa = ns.connect("a", true, &a, 0).session;
  auto sb = ns.connect("b", true, &b, 0).session;
  auto sc = ns.connect("c", true, &c, 0).session;
  auto sd = ns.connect("d", true, &d, 0).session;
  ns.subscribe(sa, "sport/+/player1", qos(0));
  ns.subscribe(sb, "sport/#", qos(0));
  ns.subscribe(sc, "#", qos(0));
  ns.subscribe(sd, "+/monitor/Clients", qos(0));
  ns.publish(msg("sport/tennis/player1", "x"), ctx);
  ns.publish(msg("sport", "parent"), ctx);
  ns.publish(msg("$SYS/monitor/Clients", "sys"), ctx);
  EXPECT_EQ(a.sent.size(), 1u);
  EXPECT_EQ(b.sent.size(), 2u);  // "sport/#" also matches "sport"
  EXPECT_EQ(c.sent.size(), 2u);  // "#" does not match "$SYS/..."
  EXPECT_EQ(d.sent.size(), 0u);  // "+" does not match "$SYS"
}

TEST_F(Fixture, UnsubscribePrunesAndStopsDelivery) {
  FakeClient a;
  auto s = ns.connect("a", true, &a, 0).session;
  EXPECT_TRUE(ns.subscribe(s, "a/b/c", qos(0)));
  EXPECT_FALSE(ns.subscribe(s, "a/b/c", qos(1)));  // replaced, not duplicated
  EXPECT_EQ(ns.subscription_count(), 1u);
  ns.publish(msg("a/b/c", "1"), ctx);
  EXPECT_TRUE(ns.unsubscribe(s, "a/b/c"));
  EXPECT_FALSE(ns.unsubscribe(s, "a/b/c"));
  ns.publish(msg("a/b/c", "2"), ctx);
  EXPECT_EQ(a.sent.size(), 1u);
  EXPECT_EQ(ns.subscription_count(), 0u);
}

TEST_F(Fixture, QosIsTheMinimumOfPublishAndSubscription) {
  FakeClient a;
  auto s = ns.connect("a", true, &a, 0).session;
  ns.subscribe(s, "t", qos(1));
  ns.publish(msg("t", "q2", 2), ctx);
  ns.publish(msg("t", "q0", 0), ctx);
  ASSERT_EQ(a.sent.size(), 2u);
  EXPECT_EQ(a.sent[0].qos, 1);
  EXPECT_NE(a.sent[0].id, 0);
  EXPECT_EQ(a.sent[1].qos, 0);
}

TEST_F(Fixture, InflightWindowQueuesAndPubackReleases) {
  FakeClient a;
  a.rm = 2;
  auto s = ns.connect("a", true, &a, 0).session;
  ns.subscribe(s, "t", qos(1));
  for (int i = 0; i < 5; ++i) ns.publish(msg("t", std::to_string(i), 1), ctx);
  ASSERT_EQ(a.sent.size(), 2u);
  EXPECT_EQ(s->queued(), 3u);
  EXPECT_TRUE(s->on_puback(a.sent[0].id, ctx));
  EXPECT_EQ(a.sent.size(), 3u);
  EXPECT_EQ(a.sent[2].payload, "2");  // order preserved
  EXPECT_FALSE(s->on_puback(999, ctx));
}

TEST_F(Fixture, Qos2OutgoingFlow) {
  FakeClient a;
  auto s = ns.connect("a", true, &a, 0).session;
  ns.subscribe(s, "t", qos(2));
  ns.publish(msg("t", "x", 2), ctx);
  ASSERT_EQ(a.sent.size(), 1u);
  const uint16_t id = a.sent[0].id;
  EXPECT_FALSE(s->on_pubcomp(id, ctx));  // not released yet
  EXPECT_TRUE(s->on_pubrec(id, false, ctx));
  ASSERT_EQ(a.pubrels.size(), 1u);
  EXPECT_TRUE(s->on_pubcomp(id, ctx));
  EXPECT_FALSE(s->on_pubcomp(id, ctx));
}

TEST_F(Fixture, PersistentSessionQueuesWhileOfflineAndResumesWithDup) {
  FakeClient a1;
  auto r = ns.connect("p", false, &a1, 0);
  r.session->set_expiry_interval(3600);
  ns.subscribe(r.session, "t", qos(1));
  ns.publish(msg("t", "inflight", 1), ctx);
  ASSERT_EQ(a1.sent.size(), 1u);
  ns.disconnect(r.session, &a1, {}, 0, ctx);
  ns.publish(msg("t", "queued", 1), ctx);
  ns.publish(msg("t", "qos0-not-queued", 0), ctx);
  FakeClient a2;
  auto r2 = ns.connect("p", false, &a2, 0);
  EXPECT_TRUE(r2.session_present);
  EXPECT_EQ(r2.session, r.session);
  r2.session->resume(ctx);
  ASSERT_EQ(a2.sent.size(), 2u);
  EXPECT_EQ(a2.sent[0].payload, "inflight");
  EXPECT_TRUE(a2.sent[0].dup);
  EXPECT_EQ(a2.sent[0].id, a1.sent[0].id);
  EXPECT_EQ(a2.sent[1].payload, "queued");
}

TEST_F(Fixture, OfflineQueueIsBoundedOldestDropped) {
  NamespaceConfig cfg;
  cfg.max_queued_messages = 3;
  Namespace small("s", cfg);
  FakeClient a;
  auto s = offline_subscriber(small, "p", a);
  for (int i = 0; i < 10; ++i) small.publish(msg("t", std::to_string(i), 1), ctx);
  EXPECT_EQ(s->queued(), 3u);
  EXPECT_EQ(s->dropped(), 7u);
  FakeClient b;
  auto r2 = small.connect("p", false, &b, 0);
  r2.session->resume(ctx);
  ASSERT_EQ(b.sent.size(), 3u);
  EXPECT_EQ(b.sent[0].payload, "7");
}

TEST_F(Fixture, NamespaceQueueBudgetCapsAllSessionsAndIsReleased) {
  NamespaceConfig cfg;
  cfg.max_queued_total = 5;  // ApsaraMQ's per-instance offline-message cap
  Namespace small("s", cfg);
  std::vector<SessionPtr> sessions;
  FakeClient a, b;
  for (auto* c : {&a, &b}) sessions.push_back(offline_subscriber(small, c == &a ? "a" : "b", *c));
  for (int i = 0; i < 4; ++i) small.publish(msg("t", std::to_string(i), 1), ctx);
  EXPECT_EQ(sessions[0]->queued() + sessions[1]->queued(), 5u);  // 8 offered, 5 kept
  EXPECT_EQ(small.queue_budget()->queued.load(), 5);
  EXPECT_EQ(small.queue_budget()->refused.load(), 3u);
  FakeClient a2;  // draining a queue gives the budget back
  auto r = small.connect("a", false, &a2, 0);
  r.session->resume(ctx);
  EXPECT_EQ(small.queue_budget()->queued.load(), static_cast<int64_t>(sessions[1]->queued()));
  sessions.clear();
  small.connect("b", true, &b, 0);  // clean start: the old session and its queue go
  r = {};
  EXPECT_EQ(small.queue_budget()->queued.load(), 0);
}

TEST_F(Fixture, SessionByteBudgetDropsOldestAndRefusesWhatCanNeverFit) {
  NamespaceConfig cfg;
  const std::string kb(1000, 'x');
  const int64_t one = Session::queued_cost(*msg("t", kb, 1));
  cfg.max_queued_bytes = static_cast<uint64_t>(one * 3);  // room for three 1 kB messages
  Namespace small("s", cfg);
  FakeClient a;
  auto s = offline_subscriber(small, "p", a);
  for (int i = 0; i < 5; ++i) small.publish(msg("t", kb + std::to_string(i), 1), ctx);
  // Each message is one byte dearer than `one`, so only two fit at a time.
  EXPECT_EQ(s->queued(), 2u);
  EXPECT_EQ(s->dropped(), 3u);
  EXPECT_EQ(small.queue_budget()->bytes.load(), 2 * (one + 1));
  small.publish(msg("t", std::string(4 * 1000, 'y'), 1), ctx);  // larger than the whole budget
  EXPECT_EQ(s->queued(), 2u);
  EXPECT_EQ(s->dropped(), 4u);
  FakeClient b;
  auto r2 = small.connect("p", false, &b, 0);
  r2.session->resume(ctx);
  ASSERT_FALSE(b.sent.empty());
  EXPECT_EQ(b.sent.back().payload, kb + "4");  // the newest kept, in order
  EXPECT_EQ(small.queue_budget()->bytes.load(), 0);
}

TEST_F(Fixture, ServerQueueMemoryBoundsEveryNamespace) {
  Broker b(1);
  const std::string kb(1000, 'x');
  const int64_t one = Session::queued_cost(*msg("t", kb, 1));
  b.set_queue_memory_limit(static_cast<uint64_t>(one * 4));
  std::vector<SessionPtr> sessions;
  std::vector<std::shared_ptr<Namespace>> spaces;
  FakeClient c1, c2;
  for (auto* c : {&c1, &c2}) {
    spaces.push_back(b.get_or_create(c == &c1 ? "i1" : "i2"));
    sessions.push_back(offline_subscriber(*spaces.back(), "p", *c));
  }
  for (int i = 0; i < 3; ++i) spaces[0]->publish(msg("t", kb, 1), ctx);
  for (int i = 0; i < 3; ++i) spaces[1]->publish(msg("t", kb, 1), ctx);
  // Four fit across both instances; the rest are refused, not taken from other queues.
  EXPECT_EQ(sessions[0]->queued(), 3u);
  EXPECT_EQ(sessions[1]->queued(), 1u);
  auto t = b.totals();
  EXPECT_EQ(t.queued, 4);
  EXPECT_EQ(t.queued_bytes, one * 4);
  EXPECT_EQ(t.queue_refused, 2u);
  FakeClient d;  // draining one instance's queue makes room for the other's next messages
  auto r = spaces[0]->connect("p", false, &d, 0);
  r.session->resume(ctx);
  spaces[1]->publish(msg("t", kb, 1), ctx);
  EXPECT_EQ(sessions[1]->queued(), 2u);
}

TEST_F(Fixture, CleanStartEndsTheSessionSoItsDelayedWillGoesOut) {
  FakeClient a;
  auto r = ns.connect("w", false, &a, 0);
  r.session->set_expiry_interval(3600);
  ns.disconnect(r.session, &a, Will{msg("status/w", "gone", 1), nullptr}, 60, ctx);  // will delayed by 60 s
  FakeClient b;
  auto again = ns.connect("w", false, &b, 0);  // back within the delay: the will is cancelled
  EXPECT_FALSE(again.ended_will);
  ns.disconnect(again.session, &b, Will{msg("status/w", "gone again", 1), nullptr}, 60, ctx);
  FakeClient c;
  auto fresh = ns.connect("w", true, &c, 0);  // clean start: the old session ends now
  ASSERT_TRUE(fresh.ended_will);
  EXPECT_EQ(fresh.ended_will.message->payload, "gone again");
  EXPECT_FALSE(fresh.session_present);
}

TEST_F(Fixture, ConfigCanChangeWhileReferencesToTheOldOneStayValid) {
  const NamespaceConfig& before = ns.config();
  NamespaceConfig cfg = before;
  cfg.max_subscriptions_per_client = 1;
  cfg.will_available = false;
  ns.set_config(cfg);
  EXPECT_EQ(ns.config().max_subscriptions_per_client, 1u);
  EXPECT_FALSE(ns.config().will_available);
  EXPECT_EQ(before.max_subscriptions_per_client, 0u);  // a reader's reference is still the old, intact copy
  const NamespaceConfig* p = &ns.config();
  ns.set_config(cfg);  // unchanged: no new copy
  EXPECT_EQ(p, &ns.config());
}

TEST_F(Fixture, CleanStartDiscardsSessionAndTakeoverKicks) {
  FakeClient a1, a2, a3;
  auto r1 = ns.connect("x", false, &a1, 0);
  r1.session->set_expiry_interval(60);
  ns.subscribe(r1.session, "t", qos(0));
  auto r2 = ns.connect("x", false, &a2, 0);  // takeover, session kept
  EXPECT_EQ(r2.previous, &a1);
  EXPECT_TRUE(r2.session_present);
  auto r3 = ns.connect("x", true, &a3, 0);   // clean start: new session
  EXPECT_EQ(r3.previous, &a2);
  EXPECT_FALSE(r3.session_present);
  EXPECT_EQ(ns.subscription_count(), 0u);
  ns.publish(msg("t", "x"), ctx);
  EXPECT_TRUE(a3.sent.empty());
}

TEST_F(Fixture, SessionWithZeroExpiryEndsOnDisconnect) {
  FakeClient a;
  auto r = ns.connect("e", false, &a, 0);
  ns.subscribe(r.session, "t", qos(1));
  ns.disconnect(r.session, &a, {}, 0, ctx);
  EXPECT_EQ(ns.session_count(), 0u);
  EXPECT_EQ(ns.subscription_count(), 0u);
}

TEST_F(Fixture, RetainedStoredReplacedClearedAndMatchedByWildcards) {
  ns.publish(msg("home/kitchen/temp", "20", 0, true), ctx);
  ns.publish(msg("home/hall/temp", "18", 0, true), ctx);
  ns.publish(msg("home/kitchen/temp", "21", 0, true), ctx);
  ns.publish(msg("$SYS/x", "s", 0, true), ctx);
  EXPECT_EQ(ns.retained_count(), 3u);
  auto all = ns.retained().match("home/+/temp", now_ms());
  std::set<std::string> payloads;
  for (auto& m : all) payloads.insert(m->payload);
  EXPECT_EQ(payloads, (std::set<std::string>{"21", "18"}));
  EXPECT_EQ(ns.retained().match("#", now_ms()).size(), 2u);  // not $SYS
  EXPECT_EQ(ns.retained().match("home/#", now_ms()).size(), 2u);
  ns.publish(msg("home/hall/temp", "", 0, true), ctx);
  EXPECT_EQ(ns.retained_count(), 2u);
}

TEST_F(Fixture, RetainAsPublishedAndNoLocal) {
  FakeClient a;
  auto s = ns.connect("a", true, &a, 0).session;
  SubOptions rap = qos(0);
  rap.retain_as_published = true;
  ns.subscribe(s, "rap", rap);
  ns.subscribe(s, "plain", qos(0));
  SubOptions nl = qos(0);
  nl.no_local = true;
  ns.subscribe(s, "own", nl);
  ns.publish(msg("rap", "1", 0, true), ctx);
  ns.publish(msg("plain", "2", 0, true), ctx);
  auto own = std::make_shared<Message>(*msg("own", "3"));
  own->origin = s->serial();
  ns.publish(own, ctx);
  ASSERT_EQ(a.sent.size(), 2u);
  EXPECT_TRUE(a.sent[0].retain);
  EXPECT_FALSE(a.sent[1].retain);
}

TEST_F(Fixture, SharedSubscriptionDeliversEachMessageToOneMember) {
  FakeClient a, b, c;
  auto sa = ns.connect("a", true, &a, 0).session;
  auto sb = ns.connect("b", true, &b, 0).session;
  auto sc = ns.connect("c", true, &c, 0).session;
  ns.subscribe(sa, "$share/g/jobs/#", qos(0));
  ns.subscribe(sb, "$share/g/jobs/#", qos(0));
  ns.subscribe(sc, "$share/h/jobs/#", qos(0));
  for (int i = 0; i < 10; ++i) ns.publish(msg("jobs/x", std::to_string(i)), ctx);
  EXPECT_EQ(a.sent.size() + b.sent.size(), 10u);
  EXPECT_EQ(a.sent.size(), 5u);  // round robin
  EXPECT_EQ(c.sent.size(), 10u);  // another group gets its own copy
}

TEST_F(Fixture, CrossThreadDeliveryIsDeferredToTheClientsWorker) {
  FakeClient remote(1);
  auto s = ns.connect("r", true, &remote, 0).session;
  ns.subscribe(s, "t", qos(0));
  ns.publish(msg("t", "x"), ctx);
  EXPECT_TRUE(remote.sent.empty());
  CollectDispatcher d;
  ctx.flush(d);
  ASSERT_EQ(d.remote.size(), 1u);
  EXPECT_EQ(d.remote[0].first, 1u);
  WorkerStats st1;
  WorkerContext ctx1(1, 2, st1);
  // The hand-over names the session by key; the target loop finds it by its
  // connection (the hint) or, without one, by its serial.
  EXPECT_EQ(d.remote[0].second.session.ns, &ns);
  EXPECT_EQ(d.remote[0].second.session.serial, s->serial());
  ns.arrive(d.remote[0].second, nullptr, ctx1);
  EXPECT_EQ(remote.sent.size(), 1u);
}

TEST_F(Fixture, HandOverToASessionThatEndedIsLetGo) {
  FakeClient remote(1);
  auto s = ns.connect("gone", true, &remote, 0).session;
  ns.subscribe(s, "t", qos(0));
  ns.publish(msg("t", "x"), ctx);
  CollectDispatcher d;
  ctx.flush(d);
  ASSERT_EQ(d.remote.size(), 1u);
  ns.disconnect(s, &remote, {}, 0, ctx);  // clean session: it ends
  s.reset();
  WorkerStats st1;
  WorkerContext ctx1(1, 2, st1);
  ns.arrive(d.remote[0].second, nullptr, ctx1);  // nothing to deliver to, nothing breaks
  EXPECT_EQ(remote.sent.size(), 0u);
  EXPECT_EQ(ns.session_count(), 0u);
}

namespace {
// Counts what the bus is given, as a cluster bus would see it.
struct CountingBus : MessageBus {
  int forwarded = 0, p2p = 0;
  void forward(Namespace&, const MessagePtr&, WorkerContext&) override { ++forwarded; }
  void forward_p2p(Namespace&, std::string_view, const MessagePtr&, WorkerContext&) override { ++p2p; }
};
}  // namespace

TEST_F(Fixture, PublishesReachTheBusAfterLocalSubscribers) {
  auto seams = ClusterSeams::single_node();
  auto bus = std::make_shared<CountingBus>();
  seams.bus = bus;
  NamespaceConfig cfg;
  cfg.p2p_topics = true;
  Namespace n("b", cfg, seams);
  FakeClient a;
  auto s = n.connect("a", true, &a, 0).session;
  n.subscribe(s, "t", qos(0));
  n.publish(msg("t", "x"), ctx);
  EXPECT_EQ(a.sent.size(), 1u);
  EXPECT_EQ(bus->forwarded, 1);
  n.publish_local(msg("t", "from another node"), ctx);  // never back onto the bus
  EXPECT_EQ(a.sent.size(), 2u);
  EXPECT_EQ(bus->forwarded, 1);
  n.publish(msg("p/p2p/elsewhere", "direct"), ctx);  // no such session here
  EXPECT_EQ(bus->p2p, 1);
}

TEST_F(Fixture, CongestedClientDropsQos0AndQueuesQos1) {
  FakeClient a;
  auto s = ns.connect("a", true, &a, 0).session;
  ns.subscribe(s, "t", qos(1));
  a.is_congested = true;
  ns.publish(msg("t", "q0", 0), ctx);
  ns.publish(msg("t", "q1", 1), ctx);
  EXPECT_TRUE(a.sent.empty());
  EXPECT_EQ(s->queued(), 1u);
  EXPECT_EQ(stats.dropped.load(), 1u);
  a.is_congested = false;
  s->pump(ctx);
  ASSERT_EQ(a.sent.size(), 1u);
  EXPECT_EQ(a.sent[0].payload, "q1");
}

TEST_F(Fixture, WillIsPublishedOnAbnormalCloseAndDelayedWillIsCancelledByReconnect) {
  FakeClient watcher, w1, w2;
  auto sw = ns.connect("watch", true, &watcher, 0).session;
  ns.subscribe(sw, "will/#", qos(0));
  auto r = ns.connect("dying", true, &w1, 0);
  ns.disconnect(r.session, &w1, Will{msg("will/now", "bye"), nullptr}, 0, ctx);
  ASSERT_EQ(watcher.sent.size(), 1u);
  // A delayed will on a persistent session: a reconnect in time cancels it.
  auto p = ns.connect("delayed", false, &w1, 0);
  p.session->set_expiry_interval(3600);
  ns.disconnect(p.session, &w1, Will{msg("will/late", "late"), nullptr}, 60, ctx);
  ns.connect("delayed", false, &w2, 0);
  ns.housekeeping(now_ms() + 120000, ctx);
  EXPECT_EQ(watcher.sent.size(), 1u);
}

TEST_F(Fixture, DelayedWillFiresAndSessionExpires) {
  FakeClient watcher, w1;
  auto sw = ns.connect("watch", true, &watcher, 0).session;
  ns.subscribe(sw, "will/#", qos(0));
  auto p = ns.connect("gone", false, &w1, 0);
  p.session->set_expiry_interval(10);
  ns.disconnect(p.session, &w1, Will{msg("will/late", "late"), nullptr}, 5, ctx);
  ns.housekeeping(now_ms() + 1000, ctx);
  EXPECT_TRUE(watcher.sent.empty());
  ns.housekeeping(now_ms() + 6000, ctx);
  EXPECT_EQ(watcher.sent.size(), 1u);
  EXPECT_EQ(ns.session_count(), 2u);
  ns.housekeeping(now_ms() + 11000, ctx);
  EXPECT_EQ(ns.session_count(), 1u);
}

TEST_F(Fixture, ExpiredMessagesAreNotDelivered) {
  FakeClient a;
  auto r = ns.connect("p", false, &a, 0);
  r.session->set_expiry_interval(3600);
  ns.subscribe(r.session, "t", qos(1));
  ns.disconnect(r.session, &a, {}, 0, ctx);
  auto m = std::make_shared<Message>(*msg("t", "old", 1));
  m->expiry_at_ms = now_ms() - 1;
  ns.publish(m, ctx);
  ns.publish(msg("t", "fresh", 1), ctx);
  FakeClient b;
  ns.connect("p", false, &b, 0).session->resume(ctx);
  ASSERT_EQ(b.sent.size(), 1u);
  EXPECT_EQ(b.sent[0].payload, "fresh");
}

// ApsaraMQ P2P hook (NamespaceConfig::p2p_topics, used by src/mq).
TEST(P2P, DeliveredToTheNamedClientWithoutSubscriptionOnlyWhenSwitchedOn) {
  WorkerStats stats;
  WorkerContext ctx{0, 2, stats};
  NamespaceConfig cfg;
  cfg.p2p_topics = true;
  Namespace ns("p2p", cfg);
  FakeClient a, b, w;
  auto sa = ns.connect("GID_a@@@1", true, &a, 0).session;
  auto sb = ns.connect("GID_a@@@2", true, &b, 0).session;
  auto sw = ns.connect("watcher", true, &w, 0).session;
  ns.subscribe(sw, "#", SubOptions{});
  ns.publish(msg("Parent/p2p/GID_a@@@1", "direct", 1, true), ctx);
  ASSERT_EQ(a.sent.size(), 1u);
  EXPECT_EQ(a.sent[0].payload, "direct");
  EXPECT_EQ(a.sent[0].qos, 1);
  EXPECT_EQ(b.sent.size(), 0u);
  EXPECT_EQ(w.sent.size(), 0u);       // only the named client
  EXPECT_EQ(ns.retained_count(), 0u);  // never retained
  ns.publish(msg("Parent/p2p/nobody", "lost"), ctx);  // no such client: dropped
  ns.publish(msg("Parent/x", "normal"), ctx);
  EXPECT_EQ(w.sent.size(), 1u);

  Namespace plain("plain", NamespaceConfig{});  // off: plain MQTT routing
  FakeClient c, d;
  auto sc = plain.connect("GID_a@@@1", true, &c, 0).session;
  auto sd = plain.connect("d", true, &d, 0).session;
  plain.subscribe(sd, "Parent/#", SubOptions{});
  plain.publish(msg("Parent/p2p/GID_a@@@1", "routed"), ctx);
  EXPECT_EQ(c.sent.size(), 0u);
  EXPECT_EQ(d.sent.size(), 1u);
}

namespace {

// Refuses every will, counting how often it was asked.
struct RefusingGuard : WillGuard {
  int asked = 0;
  bool may_publish(const Message&) override {
    ++asked;
    return false;
  }
};

}  // namespace

TEST_F(Fixture, DeliveryAsksTheClientLiveQueuedAndInFlight) {
  FakeClient a;
  a.denied = {"s/secret"};
  auto r = ns.connect("p", false, &a, 0);
  r.session->set_expiry_interval(3600);
  ns.subscribe(r.session, "s/#", qos(1));
  ns.publish(msg("s/secret", "no", 1), ctx);
  ns.publish(msg("s/open", "yes", 1), ctx);
  ASSERT_EQ(a.sent.size(), 1u);
  EXPECT_EQ(a.sent[0].payload, "yes");
  // Queued while offline, then resumed by a client whose principal may not read it.
  ns.disconnect(r.session, &a, {}, 0, ctx);
  ns.publish(msg("s/other", "queued", 1), ctx);
  FakeClient b;
  b.denied = {"s/other", "s/open"};
  auto again = ns.connect("p", false, &b, 0);
  ASSERT_TRUE(again.session_present);
  again.session->resume(ctx);
  EXPECT_TRUE(b.sent.empty()) << "the unacknowledged s/open and the queued s/other are not for b";
  EXPECT_EQ(again.session->queued(), 0u);
  // Nothing of it stays in flight: a later message still gets through.
  ns.publish(msg("s/fine", "later", 1), ctx);
  ASSERT_EQ(b.sent.size(), 1u);
  EXPECT_EQ(b.sent[0].payload, "later");
}

TEST_F(Fixture, RetainedMessagesAskTheClient) {
  FakeClient pub, a;
  ns.publish(msg("s/secret", "r1", 0, true), ctx);
  ns.publish(msg("s/open", "r2", 0, true), ctx);
  a.denied = {"s/secret"};
  auto s = ns.connect("a", true, &a, 0).session;
  SubOptions o = qos(0);
  ns.subscribe(s, "s/+", o);
  ns.send_retained(s, "s/+", o, ctx);
  ASSERT_EQ(a.sent.size(), 1u);
  EXPECT_EQ(a.sent[0].payload, "r2");
}

TEST_F(Fixture, WillGuardIsAskedWhenTheWillGoesOut) {
  FakeClient watcher, w1;
  auto sw = ns.connect("watch", true, &watcher, 0).session;
  ns.subscribe(sw, "will/#", qos(0));
  auto guard = std::make_shared<RefusingGuard>();
  auto r = ns.connect("dying", true, &w1, 0);
  ns.disconnect(r.session, &w1, Will{msg("will/now", "bye"), guard}, 0, ctx);
  EXPECT_EQ(guard->asked, 1);
  // Delayed: asked when the delay is over, not when the connection closed.
  auto p = ns.connect("delayed", false, &w1, 0);
  p.session->set_expiry_interval(3600);
  ns.disconnect(p.session, &w1, Will{msg("will/late", "late"), guard}, 5, ctx);
  EXPECT_EQ(guard->asked, 1);
  ns.housekeeping(now_ms() + 6000, ctx);
  EXPECT_EQ(guard->asked, 2);
  EXPECT_TRUE(watcher.sent.empty());
}

// A delivery to a session whose client is on another loop hands it over by key;
// the key is read while the session's lock is held, since a disconnect on the
// client's own loop may clear the client at any moment (seen as a crash under
// the soak test's reconnect storm: the key was read after unlocking).
TEST_F(Fixture, HandOverToAnotherLoopRacesADisconnectSafely) {
  FakeClient remote_client(1);
  auto s = ns.connect("r", false, &remote_client, 0).session;
  s->set_expiry_interval(3600);
  std::atomic<bool> stop{false};
  std::thread flapper([&] {
    while (!stop.load()) {
      s->detach(&remote_client, 0);
      s->attach(&remote_client);
    }
  });
  CollectDispatcher d;
  auto m = msg("a/b", "x", 0);
  for (int i = 0; i < 200000; ++i) {
    s->deliver(m, qos(0), ctx);
    if (i % 1024 == 0) {
      ctx.flush(d);
      d.remote.clear();
    }
  }
  stop = true;
  flapper.join();
  ctx.flush(d);
  for (auto& [w, r] : d.remote) EXPECT_EQ(r.session.client, remote_client.id());
}

// Cluster (Session::adopt_qos2): messages the session's old node sent and the
// client has not acknowledged keep their ids: nothing sent before the replay
// takes one, and the replay sends each body again under its id with DUP.
TEST_F(Fixture, AdoptedSentMessagesKeepTheirIdsAcrossTheReplay) {
  FakeClient a;
  auto s = ns.connect("moved", false, &a, 0).session;
  s->hold();
  s->adopt_qos2({}, {}, {{5, 300}, {2, 100}, {1, 101}});  // the counter goes on from the last: 1
  ns.subscribe(s, "t", qos(2));
  s->resume(ctx);
  EXPECT_TRUE(a.sent.empty()) << "the bodies come with the replay";
  EXPECT_FALSE(s->on_puback(2, ctx));  // a stand-in is not a message in flight yet
  s->deliver_retained(msg("t", "retained", 2, true), qos(2), ctx);
  ASSERT_EQ(a.sent.size(), 1u);
  EXPECT_EQ(a.sent[0].id, 3) << "ids 1 and 2 are reserved";
  auto logged = [](const char* payload, uint8_t q, uint64_t seq) {
    auto m = std::make_shared<Message>();
    m->topic = "t";
    m->payload = payload;
    m->qos = q;
    m->log_seq = seq;
    return MessagePtr(m);
  };
  auto m100 = logged("m100", 2, 100), m101 = logged("m101", 1, 101), m150 = logged("m150", 2, 150);
  s->finish_replay(150, {{m100, qos(2)}, {m101, qos(2)}, {m150, qos(2)}}, ctx);
  ASSERT_EQ(a.sent.size(), 4u);
  EXPECT_EQ((std::tuple{a.sent[1].payload, a.sent[1].id, a.sent[1].dup, a.sent[1].qos}),
            (std::tuple{std::string("m100"), uint16_t{2}, true, uint8_t{2}}));
  EXPECT_EQ((std::tuple{a.sent[2].payload, a.sent[2].id, a.sent[2].dup, a.sent[2].qos}),
            (std::tuple{std::string("m101"), uint16_t{1}, true, uint8_t{1}}));
  EXPECT_EQ(a.sent[3].payload, "m150");
  EXPECT_FALSE(a.sent[3].dup);
  EXPECT_NE(a.sent[3].id, 1);
  EXPECT_NE(a.sent[3].id, 2);
  EXPECT_NE(a.sent[3].id, 3);
  EXPECT_TRUE(s->on_puback(1, ctx));
  EXPECT_TRUE(s->on_pubrec(2, false, ctx));
  EXPECT_TRUE(s->on_pubcomp(2, ctx));
  EXPECT_FALSE(s->on_puback(5, ctx)) << "not brought by the replay: its id is free again";
}
