// The rule runner against a fake target: order, retries with backoff, overflow,
// dead letters, a target swapped under a backlog; and the status event's shape.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

#include "broker/broker.hpp"
#include "common/crypto.hpp"
#include "common/egress.hpp"
#include "mq/mq_service.hpp"
#include "rules/dead_letters.hpp"
#include "rules/engine.hpp"
#include "rules/envelope.hpp"
#include "rules/rule_runner.hpp"
#include "rules/source_filter.hpp"
#include "rules/status_event.hpp"
#include "rules/target.hpp"

namespace sluice::rules {
namespace {

struct Fake : Target {
  std::mutex mu;
  std::vector<std::string> got;
  int fail_first = 0;        // Retry this many times
  bool reject = false;
  Outcome deliver(const Entry& e, std::string& error) override {
    std::lock_guard lk(mu);
    if (reject) {
      error = "HTTP 400";
      return Outcome::Reject;
    }
    if (fail_first > 0) {
      --fail_first;
      error = "down";
      return Outcome::Retry;
    }
    got.push_back(e.message->payload);
    return Outcome::Delivered;
  }
  size_t size() {
    std::lock_guard lk(mu);
    return got.size();
  }
};

broker::MessagePtr msg(std::string p) {
  auto m = std::make_shared<broker::Message>();
  m->topic = "a/b";
  m->payload = std::move(p);
  m->qos = 1;
  return m;
}

mq::Rule rule() {
  mq::Rule r;
  r.instance_id = "i";
  r.name = "r";
  r.type = "outflow";
  return r;
}

template <class F>
bool eventually(F f) {
  for (int i = 0; i < 500; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(RuleRunner, DeliversInOrderAfterRetries) {
  auto fake = std::make_unique<Fake>();
  Fake* f = fake.get();
  f->fail_first = 3;
  RunnerLimits lim;
  lim.backoff_min_ms = 1;
  RuleRunner r(rule(), std::move(fake), lim, nullptr, nullptr);
  r.start();
  for (int i = 0; i < 100; ++i) r.enqueue(msg(std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return f->size() == 100; }));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(f->got[i], std::to_string(i));
  EXPECT_EQ(r.stats().retries, 3u);
  EXPECT_EQ(r.stats().delivered, 100u);
}

TEST(RuleRunner, BacklogIsBoundedAndOverflowCounted) {
  auto fake = std::make_unique<Fake>();
  fake->fail_first = 1 << 30;  // down for good
  RunnerLimits lim;
  lim.max_backlog = 10;
  RuleRunner r(rule(), std::move(fake), lim, nullptr, nullptr);
  r.start();
  for (int i = 0; i < 25; ++i) r.enqueue(msg("x"));
  EXPECT_EQ(r.stats().backlog, 10u);
  EXPECT_EQ(r.stats().overflow, 15u);
}

TEST(RuleRunner, RefusedEntriesAreDeadLetteredAndTheRuleGoesOn) {
  const std::string path = testing::TempDir() + "/rules-dead-letter-test.jsonl";
  std::remove(path.c_str());
  DeadLetters dead(path);
  auto fake = std::make_unique<Fake>();
  Fake* f = fake.get();
  f->reject = true;
  RunnerLimits lim;
  lim.backoff_min_ms = 1;
  RuleRunner r(rule(), std::move(fake), lim, &dead, nullptr);
  r.start();
  r.enqueue(msg("bad"));
  ASSERT_TRUE(eventually([&] { return r.stats().dead_lettered == 1; }));
  {
    std::lock_guard lk(f->mu);
    f->reject = false;
  }
  r.enqueue(msg("good"));
  ASSERT_TRUE(eventually([&] { return f->size() == 1; }));
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_NE(line.find("\"ruleName\":\"r\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"error\":\"HTTP 400\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"payload\":\"YmFk\""), std::string::npos) << line;  // base64 of "bad"
}

TEST(RuleRunner, ASwappedTargetTakesTheBacklog) {
  auto down = std::make_unique<Fake>();
  down->fail_first = 1 << 30;
  RunnerLimits lim;
  lim.backoff_min_ms = 1000;  // the swap must not wait for the backoff
  RuleRunner r(rule(), std::move(down), lim, nullptr, nullptr);
  r.start();
  for (int i = 0; i < 5; ++i) r.enqueue(msg(std::to_string(i)));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto up = std::make_unique<Fake>();
  Fake* u = up.get();
  r.replace(rule(), std::move(up));
  ASSERT_TRUE(eventually([&] { return u->size() == 5; }));
}

// A target taking batches: records each batch's size and payloads.
struct BatchFake : Fake {
  size_t max = 10;
  int linger = 0;
  std::vector<size_t> sizes;
  size_t max_batch() const override { return max; }
  int linger_ms() const override { return linger; }
  size_t deliver_batch(const std::vector<Entry>& batch, Outcome& o, std::string& error) override {
    std::lock_guard lk(mu);
    if (fail_first > 0) {
      --fail_first;
      error = "down";
      o = Outcome::Retry;
      return 0;
    }
    sizes.push_back(batch.size());
    for (const auto& e : batch) got.push_back(e.message->payload);
    o = Outcome::Delivered;
    return batch.size();
  }
};

TEST(RuleRunner, ABacklogGoesInBatchesInOrder) {
  auto fake = std::make_unique<BatchFake>();
  BatchFake* f = fake.get();
  f->fail_first = 1;  // the first try fails: the rest of the backlog builds during the backoff
  RunnerLimits lim;
  lim.backoff_min_ms = 100;
  RuleRunner r(rule(), std::move(fake), lim, nullptr, nullptr);
  r.start();
  for (int i = 0; i < 25; ++i) r.enqueue(msg(std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return f->size() == 25; }));
  std::lock_guard lk(f->mu);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(f->got[i], std::to_string(i));
  EXPECT_LE(f->sizes.size(), 4u) << "25 entries after a backoff: batches of up to 10";
  for (size_t n : f->sizes) EXPECT_LE(n, 10u);
}

// A receiver refusing a whole batch for one bad entry (HTTP 400 to the POST):
// the runner finds the entry by going one at a time, dead-letters only it, and
// the rest is delivered in order.
struct PickyBatchFake : BatchFake {
  size_t deliver_batch(const std::vector<Entry>& batch, Outcome& o, std::string& error) override {
    for (const auto& e : batch)
      if (e.message->payload == "bad") {
        error = "HTTP 400";
        o = Outcome::Reject;
        return 0;
      }
    return BatchFake::deliver_batch(batch, o, error);
  }
  Outcome deliver(const Entry& e, std::string& error) override {
    if (e.message->payload == "bad") {
      error = "HTTP 400";
      return Outcome::Reject;
    }
    return Fake::deliver(e, error);
  }
};

TEST(RuleRunner, ARefusedBatchDeadLettersOnlyTheBadEntry) {
  auto fake = std::make_unique<PickyBatchFake>();
  PickyBatchFake* f = fake.get();
  f->fail_first = 1;  // a backlog builds during the first backoff
  RunnerLimits lim;
  lim.backoff_min_ms = 50;
  RuleRunner r(rule(), std::move(fake), lim, nullptr, nullptr);
  r.start();
  for (int i = 0; i < 20; ++i) r.enqueue(msg(i == 7 ? "bad" : std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return f->size() == 19 && r.stats().backlog == 0; }));
  EXPECT_EQ(r.stats().dead_lettered, 1u);
  EXPECT_EQ(r.stats().delivered, 19u);
  std::lock_guard lk(f->mu);
  std::vector<std::string> want;
  for (int i = 0; i < 20; ++i)
    if (i != 7) want.push_back(std::to_string(i));
  EXPECT_EQ(f->got, want);
}

TEST(RuleRunner, ALingerFillsABatch) {
  auto fake = std::make_unique<BatchFake>();
  BatchFake* f = fake.get();
  f->linger = 200;
  RuleRunner r(rule(), std::move(fake), RunnerLimits{}, nullptr, nullptr);
  r.start();
  for (int i = 0; i < 5; ++i) {
    r.enqueue(msg(std::to_string(i)));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(eventually([&] { return f->size() == 5; }));
  std::lock_guard lk(f->mu);
  // The first entry came after a quiet spell: at once, alone (deliver, not a batch).
  EXPECT_EQ(f->sizes, std::vector<size_t>{4}) << "the next four 5 ms apart within a 200 ms linger: one batch";
}

// The linger holds a busy rule's entries, never a quiet one's: an entry after
// a quiet spell goes at once, whatever the linger.
TEST(RuleRunner, AQuietRulesEntryIsNotHeldByTheLinger) {
  auto fake = std::make_unique<BatchFake>();
  BatchFake* f = fake.get();
  f->linger = 5000;
  RuleRunner r(rule(), std::move(fake), RunnerLimits{}, nullptr, nullptr);
  r.start();
  const auto t0 = std::chrono::steady_clock::now();
  r.enqueue(msg("alone"));
  ASSERT_TRUE(eventually([&] { return f->size() == 1; }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
}

// A batch that fills ends the linger at once (the enqueue that fills it wakes the worker).
TEST(RuleRunner, AFullBatchEndsTheLinger) {
  auto fake = std::make_unique<BatchFake>();
  BatchFake* f = fake.get();
  f->linger = 5000;
  f->max = 10;
  RuleRunner r(rule(), std::move(fake), RunnerLimits{}, nullptr, nullptr);
  r.start();
  r.enqueue(msg("first"));
  ASSERT_TRUE(eventually([&] { return f->size() == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) r.enqueue(msg(std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return f->size() == 11; }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
  std::lock_guard lk(f->mu);
  EXPECT_EQ(f->sizes, std::vector<size_t>{10});
}

// A store that counts what it is given.
struct CountingStore : broker::Persistence {
  std::atomic<uint64_t> next{1};
  std::atomic<int> queued{0}, done{0};
  uint64_t submit(broker::PersistRecord&& r) override {
    if (r.kind == broker::PersistRecord::Kind::RuleQueued) ++queued;
    if (r.kind == broker::PersistRecord::Kind::RuleDone) ++done;
    return next++;
  }
  uint64_t new_session_key() override { return next++; }
  bool acks_wait() const override { return true; }
  uint64_t durable() const override { return next - 1; }
};

// Delivered entries' RuleDone records are gathered, then go to the store
// together (one transaction for many deletes), and at the latest when the
// runner stops.
TEST(RuleRunner, RuleDoneRecordsAreGatheredAndFlushedAtStop) {
  CountingStore store;
  auto fake = std::make_unique<Fake>();
  Fake* f = fake.get();
  RunnerLimits lim;
  lim.done_delay_ms = 60000;  // only the count or the stop sends them
  RuleRunner r(rule(), std::move(fake), lim, nullptr, &store);
  r.start();
  for (int i = 0; i < 50; ++i) r.enqueue(msg(std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return f->size() == 50; }));
  EXPECT_EQ(store.queued.load(), 50);
  EXPECT_EQ(store.done.load(), 0) << "held, to go to the store together";
  r.stop(false);
  ASSERT_TRUE(eventually([&] { return r.exited(); }));
  EXPECT_EQ(store.done.load(), 50);
}

// A store that holds entries for their target (rule_hold_ms): each RuleDone
// goes at once (a delivered entry is then never written), and an entry may be
// held only while the target keeps up.
struct HoldingStore : CountingStore {
  std::mutex mu;
  std::vector<bool> may_hold;  // per RuleQueued, in order
  int rule_hold_ms() const override { return 30; }
  uint64_t submit_rule_queued(const std::shared_ptr<const std::string>&, const broker::MessagePtr&,
                              bool hold) override {
    std::lock_guard lk(mu);
    may_hold.push_back(hold);
    ++queued;
    return next++;
  }
  void submit_rule_done(const uint64_t*, size_t n) override { done += static_cast<int>(n); }
};

TEST(RuleRunner, AHoldingStoreGetsEachRuleDoneAtOnceAndHoldsOnlyWhileTheTargetKeepsUp) {
  HoldingStore store;
  auto fake = std::make_unique<Fake>();
  Fake* f = fake.get();
  RunnerLimits lim;
  lim.done_delay_ms = 60000;  // gathered for a minute without a holding store
  lim.backoff_min_ms = lim.backoff_max_ms = 20;
  RuleRunner r(rule(), std::move(fake), lim, nullptr, &store);
  r.start();
  r.enqueue(msg("a"));
  ASSERT_TRUE(eventually([&] { return store.done.load() == 1; })) << "RuleDone right after the delivery";
  {
    std::lock_guard lk(f->mu);
    f->fail_first = 1 << 30;  // the target fails until told otherwise
  }
  r.enqueue(msg("b"));
  ASSERT_TRUE(eventually([&] { return r.stats().retries >= 1; }));
  r.enqueue(msg("c"));  // behind a failing target: written at once
  {
    std::lock_guard lk(f->mu);
    f->fail_first = 0;  // back
  }
  ASSERT_TRUE(eventually([&] { return f->size() == 3; }));
  r.enqueue(msg("d"));  // the target keeps up again
  ASSERT_TRUE(eventually([&] { return store.done.load() == 4; }));
  std::lock_guard lk(store.mu);
  EXPECT_EQ(store.may_hold, (std::vector<bool>{true, true, false, true}));
}

// A big batch (the target is the bottleneck, or entries come fast) ends the
// holding too: the next entry is written at once.
TEST(RuleRunner, AfterABigBatchEntriesAreNotHeld) {
  HoldingStore store;
  auto fake = std::make_unique<BatchFake>();
  BatchFake* f = fake.get();
  f->max = 100;
  f->fail_first = 1 << 30;
  RunnerLimits lim;
  lim.backoff_min_ms = lim.backoff_max_ms = 20;
  RuleRunner r(rule(), std::move(fake), lim, nullptr, &store);
  r.start();
  for (size_t i = 0; i < kHoldBatchBelow + 8; ++i) r.enqueue(msg(std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return r.stats().retries >= 1; }));
  {
    std::lock_guard lk(f->mu);
    f->fail_first = 0;
  }
  ASSERT_TRUE(eventually([&] { return f->size() == kHoldBatchBelow + 8; }));
  r.enqueue(msg("next"));
  ASSERT_TRUE(eventually([&] { return f->size() == kHoldBatchBelow + 9; }));
  std::lock_guard lk(store.mu);
  ASSERT_EQ(store.may_hold.size(), kHoldBatchBelow + 9);
  EXPECT_FALSE(store.may_hold.back()) << "after a batch of " << kHoldBatchBelow + 8;
}

// Lingers that gathered nothing, three in a row (a synchronous publisher: the
// next message comes only after this one's PUBACK), are not repeated at once.
TEST(RuleRunner, LingersThatGatheredNothingAreNotRepeated) {
  auto fake = std::make_unique<BatchFake>();
  BatchFake* f = fake.get();
  f->linger = 100;
  RuleRunner r(rule(), std::move(fake), RunnerLimits{}, nullptr, nullptr);
  r.start();
  r.enqueue(msg("0"));  // after a quiet spell: at once
  ASSERT_TRUE(eventually([&] { return f->size() == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 1; i < 4; ++i) {  // busy: each lingers 100 ms, and nothing comes
    r.enqueue(msg(std::to_string(i)));
    ASSERT_TRUE(eventually([&] { return f->size() == static_cast<size_t>(i + 1); }));
  }
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(300)) << "one empty linger is repeated";
  const auto t1 = std::chrono::steady_clock::now();
  for (int i = 4; i < 10; ++i) {
    r.enqueue(msg(std::to_string(i)));
    ASSERT_TRUE(eventually([&] { return f->size() == static_cast<size_t>(i + 1); }));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::milliseconds(300)) << "no 100 ms linger each";
}

// Each change of an instance's rules installs a new observer; the replaced one
// must be freed once the loops have left it, not kept until shutdown.
TEST(RulesEngine, ReplacedObserversAreFreedAfterTheLoopsLeaveThem) {
  broker::Broker b(1);
  b.get_or_create("inst");
  std::vector<std::function<void()>> pending;  // the loops' passes, run when the test says
  EngineOptions eo;
  eo.after_loops = [&](std::function<void()> f) { pending.push_back(std::move(f)); };
  RulesEngine engine(b, std::move(eo));
  mq::MqState s;
  mq::Rule r = rule();
  r.instance_id = "inst";
  r.source_topic = "a/#";
  r.target_type = "webhook";
  r.target_config = R"({"Url":"http://127.0.0.1:9/hook"})";
  for (int i = 0; i < 20; ++i) {
    r.updated_ms = i + 1;  // UpdateRule: a new observer each time
    s.instances["inst"].rules = {r};
    engine.apply(s);
  }
  EXPECT_EQ(engine.observers_alive(), 20u) << "replaced observers wait for the loops";
  for (auto& f : pending) f();
  pending.clear();
  EXPECT_EQ(engine.observers_alive(), 1u) << "only the installed one is left";
  s.instances["inst"].rules.clear();  // no rule left: the observer is removed
  engine.apply(s);
  for (auto& f : pending) f();
  EXPECT_EQ(engine.observers_alive(), 0u);
}

// Every connection a rule's target makes is checked against the egress policy
// (common/egress.hpp), not only the Url when the rule was made: a rule made
// while loopback was allowed, or a name that now resolves to loopback, is
// refused at delivery with the reason in the rule's error.
TEST(TargetEgress, ConnectionsToRefusedAddressesAreNotMade) {
  common::set_egress_policy(common::EgressPolicy{});  // the default: loopback refused
  auto entry = [] {
    Entry e;
    e.seq = 1;
    auto m = std::make_shared<broker::Message>();
    m->topic = "a/b";
    m->payload = "x";
    e.message = m;
    return e;
  };
  TargetEnv env;
  for (const auto& [type, config] : std::vector<std::pair<std::string, std::string>>{
           {"webhook", R"({"Url":"http://localhost:9/hook"})"},
           {"nats", R"({"Url":"nats://127.0.0.1:4222","Subject":"a.b"})"},
           {"postgres", R"({"Url":"postgresql://u@127.0.0.1/db","Table":"t"})"}}) {
    mq::Rule r = rule();
    r.target_type = type;
    r.target_config = config;
    std::string error;
    auto t = make_target(r, env);
    ASSERT_TRUE(t) << type;
    EXPECT_EQ(t->deliver(entry(), error), Outcome::Retry) << type;
    EXPECT_NE(error.find("loopback"), std::string::npos) << type << ": " << error;
  }
}

// The fast paths (exact, "parent/#") agree with mqtt::topic_matches everywhere.
TEST(SourceFilter, AgreesWithTopicMatches) {
  const char* filters[] = {"a/b/#", "a/b", "a/#", "#", "+/b", "a/+/c", "a//#", "$SYS/#", "a/b/c/#", "a", "/#", "+", "a/+"};
  const char* topics[] = {"a/b", "a/b/c", "a/bc", "a/bc/d", "a", "ab", "a/b/", "a//x", "a/", "$SYS/x", "$SYS",
                          "b/a/b", "/x", "a/b/c/d", "x/b", "a/x/c"};
  for (const char* f : filters)
    for (const char* t : topics)
      EXPECT_EQ(SourceFilter(f).matches(t), mqtt::topic_matches(f, t)) << f << " vs " << t;
}

// Parents of up to 8 bytes are compared as one masked word when the topic has
// 8 bytes: every parent length 1-9 against topics around it, longer and shorter.
TEST(SourceFilter, WordCompareOfShortParentsAgrees) {
  const char* filters[] = {"b/#",        "be/#",     "ben/#",       "benc/#",      "bench/#",  "bench1/#",
                           "bench12/#",  "bench123/#", "bench1234/#", "sensors/#", "Bench/#", "bench/s0/#"};
  const char* topics[] = {"bench/s0",     "bench/s0/x", "bench1/aaaa", "bench12/a/b", "bench123/xy", "bench123",
                          "bench1234/zz", "bench1234",  "benchmark/1", "bench/",      "bench",       "sensors/temp",
                          "sensorsX/a",   "Bench/s0xx", "b/cdefghij",  "bx/cdefghij", "bench12",     "bench/s0x"};
  for (const char* f : filters)
    for (const char* t : topics)
      EXPECT_EQ(SourceFilter(f).matches(t), mqtt::topic_matches(f, t)) << f << " vs " << t;
}

TEST(StatusEvent, HasTheCloudsFieldsAndASequence) {
  const std::string j = status_event_json("mqtt-1", broker::ClientEvent::TcpClean, "GID_a@@@d\"1", channel_id(1, 2),
                                          "10.0.0.1:5555", 1700000000000, 42);
  EXPECT_EQ(j,
            "{\"clientId\":\"GID_a@@@d\\\"1\",\"channelId\":\"00000000000000010000000000000002\","
            "\"clientIp\":\"10.0.0.1:5555\",\"eventType\":\"tcpclean\",\"time\":1700000000000,"
            "\"instanceId\":\"mqtt-1\",\"seq\":42}");
}

}  // namespace
}  // namespace sluice::rules

namespace sluice::rules {
namespace {

// The outflow envelope, as a receiver parses it: every field, the payload's
// bytes back from base64 (lengths 0-5 cover every padding), a topic that needs
// escaping, a seq with bit 63 set (QoS 0).
TEST(MessageJson, ParsesBackToTheMessage) {
  mq::Rule r = rule();
  r.instance_id = "mqtt-local-\"x\"";
  for (size_t len = 0; len <= 5; ++len) {
    auto m = std::make_shared<broker::Message>();
    m->topic = "a/\"b\"\n";
    m->payload = std::string("\x00\xff\x10 zq", len);
    m->qos = 1;
    m->retain = true;
    const std::string j = message_json(r, Entry{(uint64_t(1) << 63) | 42, m});
    auto v = boost::json::parse(j).as_object();
    EXPECT_EQ(v["instanceId"].as_string(), r.instance_id);
    EXPECT_EQ(v["ruleName"].as_string(), "r");
    EXPECT_EQ(v["seq"].to_number<uint64_t>(), (uint64_t(1) << 63) | 42);
    EXPECT_EQ(v["topic"].as_string(), m->topic);
    EXPECT_EQ(v["qos"].as_int64(), 1);
    EXPECT_TRUE(v["retain"].as_bool());
    EXPECT_EQ(common::base64_decode(std::string(v["payload"].as_string())).value_or("?"), m->payload) << len;
  }
}

}  // namespace
}  // namespace sluice::rules

namespace sluice::rules {
namespace {

// A target's envelope writer gives, entry by entry and as an NDJSON batch,
// exactly what message_json gives for each entry: consecutive seqs (carried in
// place), jumps, a topic that needs escaping in the middle of a batch, every
// payload length 0-40 (the SSSE3 base64 from 16 bytes on), both QoS and retain.
TEST(MessageEnvelope, WritesWhatMessageJsonWrites) {
  const mq::Rule r = rule();
  MessageEnvelope env(r);
  std::vector<Entry> batch;
  uint64_t seq = (uint64_t(1) << 63) | 98;
  for (size_t i = 0; i < 41; ++i) {
    auto m = std::make_shared<broker::Message>();
    // Topics of 3, 8-9, 12 and 30 bytes (each copy path), one needing escapes.
    m->topic = i == 17     ? "a/\"b\"\n"
               : i % 5 == 0 ? "a/b"
               : i % 7 == 0 ? "a/much/longer/topic/than/16/b"
               : i % 3 == 0 ? "bench/s" + std::to_string(i)
                            : "bench/s" + std::to_string(i % 4) + "/xyz";
    for (size_t k = 0; k < i; ++k) m->payload += static_cast<char>((k * 37 + i) & 0xff);
    m->qos = static_cast<uint8_t>(i % 2);
    m->retain = i % 3 == 0;
    seq += i == 20 ? 1000 : 1;
    batch.push_back(Entry{seq, m});
  }
  std::string want;
  common::OutBuffer one;
  for (const Entry& e : batch) {
    one.clear();
    env.append(one, e);
    ASSERT_EQ(one.view(), message_json(r, e)) << e.seq;
    want += message_json(r, e) + "\n";
  }
  common::OutBuffer got;
  got.append("x");  // appended to, not replaced
  env.append_lines(got, batch.data(), batch.size());
  EXPECT_EQ(got.view(), "x" + want);
  // And again from a fresh writer (its first seq written in full), twice
  // into the same buffer (a second batch's body after the first's).
  MessageEnvelope again(r);
  got.clear();
  again.append_lines(got, batch.data() + 10, 20);
  again.append_lines(got, batch.data() + 30, 11);
  std::string part;
  for (size_t i = 10; i < 41; ++i) part += message_json(r, batch[i]) + "\n";
  EXPECT_EQ(got.view(), part);
}

}  // namespace
}  // namespace sluice::rules
