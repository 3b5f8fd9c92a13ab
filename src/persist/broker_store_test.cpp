// The broker's durable state: message codec, store round trip through a real
// broker, group commit, recovery order and what recovery drops.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "broker/broker.hpp"
#include "broker/clock.hpp"
#include "broker/namespace.hpp"
#include "persist/broker_store.hpp"
#include "persist/message_codec.hpp"
#include "persist/rule_log.hpp"
#include "store/sqlite_db.hpp"
#include "store/test_util.hpp"

using namespace sluice;
using broker::PersistRecord;

namespace {

struct TempDir : store::testing::TempDir {
  std::string db() const { return path + "/broker.db"; }
};

class Client : public broker::Client {
 public:
  unsigned worker() const override { return 0; }
  bool send_publish(const broker::Message& m, uint8_t qos, uint16_t id, bool, bool dup, uint32_t) override {
    sent.push_back({m.payload, qos, id, dup});
    return true;
  }
  void send_pubrel(uint16_t id) override { pubrels.push_back(id); }
  uint16_t receive_maximum() const override { return 65535; }
  bool congested() const override { return false; }
  void kick(mqtt::Reason) override {}
  struct Out {
    std::string payload;
    uint8_t qos;
    uint16_t id;
    bool dup;
  };
  std::vector<Out> sent;
  std::vector<uint16_t> pubrels;
};

broker::MessagePtr msg(std::string topic, std::string payload, uint8_t qos, bool retain = false) {
  auto m = std::make_shared<broker::Message>();
  m->topic = std::move(topic);
  m->payload = std::move(payload);
  m->qos = qos;
  m->retain = retain;
  return m;
}

// A store at `db`, read back, and a one-loop broker over it, wired as `sluice
// serve` wires them; restore() hands what was read back to the broker.
struct Rig {
  persist::BrokerStore st;
  broker::Recovered recovered;
  broker::Broker b{1};
  std::shared_ptr<broker::Namespace> ns = b.get_or_create("");
  broker::WorkerStats stats;
  broker::WorkerContext ctx{0, 1, stats};
  explicit Rig(const std::string& db) : st(db, {persist::FsyncMode::Always, 0}), recovered(st.recover()) {
    b.set_persistence(&st);
    st.start(nullptr);
  }
  size_t restore() { return b.restore(std::move(recovered)); }
};

void wait_durable(persist::BrokerStore& s, uint64_t ticket) {
  for (int i = 0; i < 500 && s.durable() < ticket; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_GE(s.durable(), ticket);
}

}  // namespace

TEST(MessageCodec, RoundTripKeepsPropertiesAndExpiry) {
  broker::Message m;
  m.topic = "a/b";
  m.payload = std::string("bin\0ary", 7);
  m.qos = 2;
  m.retain = true;
  m.payload_format = 1;
  m.content_type = "text/plain";
  m.response_topic = "r/t";
  m.correlation_data = "cd";
  m.user_properties = {{"k", "v"}, {"k", "w"}};
  m.expiry_at_ms = broker::now_ms() + 60000;
  const std::string bytes = persist::encode_message(m);
  auto back = persist::decode_message(bytes, broker::wall_ms(), broker::now_ms());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->topic, m.topic);
  EXPECT_EQ(back->payload, m.payload);
  EXPECT_EQ(back->qos, 2);
  EXPECT_TRUE(back->retain);
  EXPECT_EQ(back->payload_format, m.payload_format);
  EXPECT_EQ(back->content_type, m.content_type);
  EXPECT_EQ(back->response_topic, m.response_topic);
  EXPECT_EQ(back->correlation_data, m.correlation_data);
  EXPECT_EQ(back->user_properties, m.user_properties);
  EXPECT_NEAR(double(back->expiry_at_ms), double(m.expiry_at_ms), 50.0);
}

// A message without MQTT 5 properties takes the writer's short path: the same
// bytes as the general encoding (checked byte by byte), appended after what
// the buffer already holds, and it reads back with its expiry.
TEST(MessageCodec, PlainMessageHasTheGeneralLayout) {
  broker::Message m;
  m.topic = "a/b";
  m.payload = std::string("bin\0ary", 7);
  m.qos = 1;
  m.retain = true;
  std::string bytes = "xy";
  persist::append_message(bytes, m);
  const std::string want = std::string("xy") + std::string("\x01\x01\x01", 3) + std::string(8, '\0') + std::string(1, '\0') +
                           std::string(4, '\0') + std::string("\x03\0\0\0a/b", 7) + std::string("\x07\0\0\0", 4) + m.payload;
  EXPECT_EQ(bytes, want);
  m.expiry_at_ms = broker::now_ms() + 60000;
  auto back = persist::decode_message(persist::encode_message(m), broker::wall_ms(), broker::now_ms());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->topic, m.topic);
  EXPECT_EQ(back->payload, m.payload);
  EXPECT_EQ(back->qos, 1);
  EXPECT_TRUE(back->retain);
  EXPECT_FALSE(back->content_type);
  EXPECT_NEAR(double(back->expiry_at_ms), double(m.expiry_at_ms), 50.0);
}

TEST(MessageCodec, DamagedBytesReadBackAsNothing) {
  broker::Message m;
  m.topic = "t";
  m.payload = "payload";
  m.user_properties = {{"k", "v"}};
  const std::string bytes = persist::encode_message(m);
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(persist::decode_message(std::string_view(bytes).substr(0, n), 0, 0)) << n;
  std::string huge = bytes;
  huge[13] = '\xff';  // the user property count
  huge[14] = '\xff';
  EXPECT_FALSE(persist::decode_message(huge, 0, 0));
}

TEST(BrokerStore, SessionQueueAndRetainedSurviveARestartInOrder) {
  TempDir dir;
  {
    Rig rig(dir.db());
    auto& st = rig.st;
    auto& ns = rig.ns;
    auto& ctx = rig.ctx;
    Client c;
    auto s = ns->connect("sub", true, &c, 0).session;
    s->set_expiry_interval(3600);
    broker::SubOptions o;
    o.qos = 2;
    o.subscription_id = 7;
    ns->subscribe(s, "q/#", o);
    ns->subscribe(s, "gone", o);
    ns->unsubscribe(s, "gone");
    ns->disconnect(s, &c, {}, 0, ctx);
    for (int i = 0; i < 5; ++i) ns->publish(msg("q/x", "m" + std::to_string(i), i % 2 ? 2 : 1), ctx);
    ns->publish(msg("keep", "kept", 1, true), ctx);
    ns->publish(msg("drop", "d", 1, true), ctx);
    ns->publish(msg("drop", "", 1, true), ctx);  // cleared
    auto clean = ns->connect("clean", true, &c, 0).session;  // no expiry: never written
    ns->subscribe(clean, "q/#", o);
    wait_durable(st, ctx.ticket());
    st.stop();
  }
  Rig rig(dir.db());
  auto& st = rig.st;
  auto& r = rig.recovered;
  ASSERT_EQ(r.sessions.size(), 1u);
  const auto& rs = r.sessions[0];
  EXPECT_EQ(rs.client_id, "sub");
  EXPECT_EQ(rs.expiry_s, 3600u);
  EXPECT_NE(rs.disconnected_wall_ms, 0);
  ASSERT_EQ(rs.subscriptions.size(), 1u);
  EXPECT_EQ(rs.subscriptions[0].first, "q/#");
  EXPECT_EQ(rs.subscriptions[0].second.subscription_id, 7u);
  ASSERT_EQ(rs.entries.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(rs.entries[i].message->payload, "m" + std::to_string(i));
    EXPECT_EQ(rs.entries[i].qos, i % 2 ? 2 : 1);
  }
  ASSERT_EQ(r.retained.size(), 1u);
  EXPECT_EQ(r.retained[0].second->payload, "kept");

  // Put back into a broker: the client finds its session and its queue in order.
  EXPECT_EQ(rig.restore(), 1u);
  auto& ns = rig.ns;
  auto& ctx = rig.ctx;
  EXPECT_EQ(ns->retained_count(), 1u);
  Client c;
  auto a = ns->connect("sub", false, &c, 0);
  EXPECT_TRUE(a.session_present);
  a.session->set_expiry_interval(3600);
  a.session->resume(ctx);
  ASSERT_EQ(c.sent.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.sent[i].payload, "m" + std::to_string(i));
  // Acknowledged ones are gone from the store; the rest stays for the next restart.
  EXPECT_TRUE(a.session->on_puback(c.sent[0].id, ctx));
  EXPECT_TRUE(a.session->on_pubrec(c.sent[1].id, false, ctx));
  // Routing still works through the rebuilt trie.
  ns->publish(msg("q/y", "live", 1), ctx);
  ASSERT_EQ(c.sent.size(), 6u);
  EXPECT_EQ(c.sent[5].payload, "live");
  wait_durable(st, ctx.ticket());
  st.stop();

  persist::BrokerStore again(dir.db(), {persist::FsyncMode::Always, 0});
  broker::Recovered r2 = again.recover();
  ASSERT_EQ(r2.sessions.size(), 1u);
  const auto& e = r2.sessions[0].entries;
  ASSERT_EQ(e.size(), 5u);  // m1 (released), m2, m3, m4, live
  EXPECT_EQ(e[0].message->payload, "m1");
  EXPECT_TRUE(e[0].released);
  EXPECT_EQ(e[0].packet_id, c.sent[1].id);
  EXPECT_EQ(e[4].message->payload, "live");
}

TEST(BrokerStore, QueuedAndAcknowledgedInOneBatchNeverReachTheDisk) {
  TempDir dir;
  persist::BrokerStore st(dir.db(), {persist::FsyncMode::Batch, 10});
  st.recover();
  PersistRecord s{PersistRecord::Kind::SessionSaved};
  s.key = st.new_session_key();
  s.ns = "";
  s.client_id = "c";
  s.expiry_s = 60;
  st.submit(std::move(s));
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 100; ++i) {
    PersistRecord q{PersistRecord::Kind::MessageQueued};
    q.key = 1;
    q.qos = 1;
    q.message = msg("t", "p", 1);
    seqs.push_back(st.submit(std::move(q)));
  }
  for (size_t i = 0; i < 60; ++i) {
    PersistRecord d{PersistRecord::Kind::MessageDone};
    d.seq = seqs[i];
    st.submit(std::move(d));
  }
  std::atomic<uint64_t> reported{0};
  st.start([&](uint64_t t) { reported = t; });  // everything above lands in one batch
  const uint64_t last = seqs.back() + 60;
  wait_durable(st, last);
  EXPECT_EQ(reported.load(), last);
  st.stop();
  EXPECT_EQ(st.stats().batches, 1u);
  EXPECT_EQ(st.stats().cancelled, 60u);
  persist::BrokerStore again(dir.db(), {});
  auto r = again.recover();
  ASSERT_EQ(r.sessions.size(), 1u);
  ASSERT_EQ(r.sessions[0].entries.size(), 40u);
  EXPECT_EQ(r.sessions[0].entries[0].seq, seqs[60]);
  // Tickets continue after what is stored: new sequence numbers never collide.
  PersistRecord q{PersistRecord::Kind::MessageQueued};
  EXPECT_GT(again.submit(std::move(q)), seqs.back());
}

TEST(BrokerStore, RecoveryDropsExpiredMessagesAndOrphans) {
  TempDir dir;
  {
    persist::BrokerStore st(dir.db(), {persist::FsyncMode::Off, 0});
    st.recover();
    PersistRecord s{PersistRecord::Kind::SessionSaved};
    s.key = 5;
    s.client_id = "c";
    s.expiry_s = 60;
    st.submit(std::move(s));
    auto expired = std::make_shared<broker::Message>(*msg("t", "old", 1));
    expired->expiry_at_ms = broker::now_ms() + 20;
    for (auto m : {broker::MessagePtr(expired), msg("t", "fresh", 1)}) {
      PersistRecord q{PersistRecord::Kind::MessageQueued};
      q.key = 5;
      q.qos = 1;
      q.message = m;
      st.submit(std::move(q));
    }
    PersistRecord orphan{PersistRecord::Kind::MessageQueued};
    orphan.key = 99;  // no such session
    orphan.message = msg("t", "orphan", 1);
    const uint64_t t = st.submit(std::move(orphan));
    st.start(nullptr);
    wait_durable(st, t);
    st.stop();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  persist::BrokerStore st(dir.db(), {});
  auto r = st.recover();
  ASSERT_EQ(r.sessions.size(), 1u);
  ASSERT_EQ(r.sessions[0].entries.size(), 1u);
  EXPECT_EQ(r.sessions[0].entries[0].message->payload, "fresh");
  persist::BrokerStore again(dir.db(), {});
  EXPECT_EQ(again.recover().sessions[0].entries.size(), 1u);  // deleted, not just skipped
}

TEST(BrokerStore, WillsOfConnectionsOpenAtACrashGoOutAfterTheRestart) {
  TempDir dir;
  {
    Rig rig(dir.db());
    auto& st = rig.st;
    auto& ns = rig.ns;
    auto& ctx = rig.ctx;
    Client c1, c2, c3;
    // Open at the "crash": a clean session and a persistent one with a will delay.
    auto s1 = ns->connect("clean", true, &c1, 0).session;
    ns->arm_will("clean", msg("status/clean", "offline", 1), 0);
    auto s2 = ns->connect("kept", false, &c2, 0).session;
    s2->set_expiry_interval(3600);
    ns->arm_will("kept", msg("status/kept", "offline", 1), 30);
    // Closed normally before it: its will is gone with it.
    auto s3 = ns->connect("left", true, &c3, 0).session;
    const uint64_t k3 = ns->arm_will("left", msg("status/left", "offline", 1), 0);
    ns->disconnect(s3, &c3, {}, 0, ctx);
    ns->disarm_will(k3);
    PersistRecord last{PersistRecord::Kind::RetainedCleared};
    wait_durable(st, st.submit(std::move(last)));
    st.stop();  // no disconnect for s1 and s2: the process "died"
  }
  Rig rig(dir.db());
  auto& st = rig.st;
  auto& r = rig.recovered;
  ASSERT_EQ(r.live_wills.size(), 2u);
  EXPECT_EQ(r.live_wills[0].client_id, "clean");
  EXPECT_EQ(r.live_wills[1].client_id, "kept");
  EXPECT_EQ(r.live_wills[1].delay_s, 30u);
  rig.restore();
  auto& ns = rig.ns;
  auto& ctx = rig.ctx;
  Client watcher;
  auto w = ns->connect("watcher", true, &watcher, 0).session;
  broker::SubOptions o;
  o.qos = 1;
  ns->subscribe(w, "status/#", o);
  const int64_t now = broker::now_ms();
  ns->housekeeping(now, ctx);
  ASSERT_EQ(watcher.sent.size(), 1u);  // the clean session's at once
  EXPECT_EQ(watcher.sent[0].payload, "offline");
  ns->housekeeping(now + 29'000, ctx);
  EXPECT_EQ(watcher.sent.size(), 1u);  // the persistent one waits out its delay from the restart
  ns->housekeeping(now + 31'000, ctx);
  EXPECT_EQ(watcher.sent.size(), 2u);
  PersistRecord last{PersistRecord::Kind::RetainedCleared};
  wait_durable(st, st.submit(std::move(last)));
  st.stop();
  persist::BrokerStore again(dir.db(), {});
  EXPECT_TRUE(again.recover().live_wills.empty());  // published once, not again after another restart
}

TEST(BrokerStore, FsyncModesParse) {
  persist::FsyncMode m;
  EXPECT_TRUE(persist::parse_fsync_mode("always", m));
  EXPECT_EQ(m, persist::FsyncMode::Always);
  EXPECT_TRUE(persist::parse_fsync_mode("off", m));
  EXPECT_TRUE(persist::parse_fsync_mode("batch", m));
  EXPECT_EQ(m, persist::FsyncMode::Batch);
  EXPECT_FALSE(persist::parse_fsync_mode("sometimes", m));
}

namespace {

uint64_t rule_queued(persist::BrokerStore& st, const std::string& rule, const std::string& payload) {
  PersistRecord r{PersistRecord::Kind::RuleQueued};
  r.text = rule;
  r.message = msg("t/" + payload, payload, 1);
  return st.submit(std::move(r));
}
uint64_t rule_done(persist::BrokerStore& st, uint64_t seq) {
  PersistRecord r{PersistRecord::Kind::RuleDone};
  r.seq = seq;
  return st.submit(std::move(r));
}

}  // namespace

// Issue 19: a rule's backlog (the rules log beside broker.db) comes back after a
// restart without what was delivered, and tickets stay above every seq ever
// handed out, also once everything was delivered (receivers and JetStream
// de-duplicate by seq: a seq used again would be dropped as a duplicate).
TEST(BrokerStore, RuleBacklogSurvivesARestartAndSeqsNeverRepeat) {
  for (uint64_t empty_at : {uint64_t(0), uint64_t(1)}) {  // 1: the file is emptied as soon as nothing is outstanding
    TempDir dir;
    persist::BrokerStoreOptions o{persist::FsyncMode::Always, 0};
    o.rule_log_empty_at = empty_at;
    std::vector<uint64_t> seqs;
    {
      persist::BrokerStore st(dir.db(), o);
      st.recover();
      st.start(nullptr);
      for (int i = 0; i < 10; ++i) seqs.push_back(rule_queued(st, "acme/r1", "p" + std::to_string(i)));
      wait_durable(st, seqs.back());
      for (int i = 0; i < 4; ++i) rule_done(st, seqs[i]);
      st.stop();
    }
    {
      persist::BrokerStore st(dir.db(), o);
      auto r = st.recover();
      ASSERT_EQ(r.rule_entries.size(), 6u);
      for (size_t i = 0; i < 6; ++i) {
        EXPECT_EQ(r.rule_entries[i].seq, seqs[4 + i]);
        EXPECT_EQ(r.rule_entries[i].rule, "acme/r1");
        EXPECT_EQ(r.rule_entries[i].message->payload, "p" + std::to_string(4 + i));
      }
      st.start(nullptr);
      for (size_t i = 4; i < seqs.size(); ++i) rule_done(st, seqs[i]);
      st.stop();
    }
    persist::BrokerStore st(dir.db(), o);
    EXPECT_TRUE(st.recover().rule_entries.empty());
    EXPECT_GT(rule_queued(st, "acme/r1", "next"), seqs.back()) << "empty_at " << empty_at;
    if (empty_at == 1) {
      EXPECT_LT(std::filesystem::file_size(dir.db() + "-rules"), 64u);  // one floor record
    }
  }
}

// A write cut short by a crash leaves a torn record at the end: it is cut, what
// came before reads back, and new records follow the whole ones.
TEST(RuleLog, OnlyItsOwnerMayReadIt) {
  TempDir dir;
  const std::string path = dir.path + "/rules";
  { persist::RuleLog log(path); }
  namespace fs = std::filesystem;
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  { persist::RuleLog log(path); }  // an older copy left readable by all: payloads in plain text
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
}

// The on-disk checksum is fixed: records written by earlier versions (bytes
// and checksums below, made by the first implementation) are read back.
TEST(RuleLog, RecordsOfEarlierVersionsAreReadBack) {
  TempDir dir;
  const std::string path = dir.path + "/old-rules";
  {
    std::string bytes;
    auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) bytes.push_back(char(v >> (8 * i))); };
    auto u64 = [&](uint64_t v) { for (int i = 0; i < 8; ++i) bytes.push_back(char(v >> (8 * i))); };
    u32(25), u32(0x8b430568), bytes.push_back('M'), u64(50), u64(51), u64(52);  // 25 bytes: a 1-byte tail
    u32(9), u32(0xbe3729a4), bytes.push_back('F'), u64(60);                     // 9 bytes: the shortest
    std::ofstream(path, std::ios::binary) << bytes;
  }
  persist::RuleLog log(path);
  EXPECT_EQ(log.max_seq(), 60u) << "both records read (a checksum mismatch would cut the file)";
  EXPECT_EQ(log.file_bytes(), 8u + 25 + 8 + 9);
}

TEST(RuleLog, ATornTailIsCutAndTheRestReadBack) {
  TempDir dir;
  const std::string path = dir.path + "/rules";
  uint64_t whole = 0;
  {
    persist::RuleLog log(path);
    for (uint64_t s = 1; s <= 3; ++s) log.queued(s, "r", *msg("t", "payload", 1));
    ASSERT_TRUE(log.flush());
    whole = log.file_bytes();
  }
  {
    FILE* f = std::fopen(path.c_str(), "ab");
    std::fwrite("\x40\0\0\0torn", 1, 8, f);
    std::fclose(f);
  }
  {
    persist::RuleLog log(path);
    EXPECT_EQ(log.file_bytes(), whole);
    EXPECT_EQ(log.max_seq(), 3u);
    EXPECT_EQ(log.take_recovered(broker::wall_ms(), broker::now_ms()).size(), 3u);
    log.queued(4, "r", *msg("t", "four", 1));
    ASSERT_TRUE(log.done(1));
    EXPECT_FALSE(log.done(99));
    ASSERT_TRUE(log.flush());
  }
  persist::RuleLog log(path);
  auto r = log.take_recovered(broker::wall_ms(), broker::now_ms());
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].seq, 2u);
  EXPECT_EQ(r[2].message->payload, "four");
}

// A file that grew large while mostly delivered is rewritten with only what is
// outstanding (and the highest seq), so it stays about the size of the backlog.
TEST(RuleLog, CompactionKeepsOnlyTheOutstandingEntries) {
  TempDir dir;
  const std::string path = dir.path + "/rules";
  {
    persist::RuleLog log(path, {uint64_t(1) << 30, 8192});
    for (uint64_t s = 1; s <= 100; ++s) log.queued(s, "acme/r", *msg("t", std::string(100, 'x'), 1));
    ASSERT_TRUE(log.flush());
    EXPECT_GT(log.file_bytes(), 8192u);  // mostly outstanding: not compacted
    for (uint64_t s = 1; s <= 97; ++s) ASSERT_TRUE(log.done(s));
    ASSERT_TRUE(log.flush());
    EXPECT_LT(log.file_bytes(), 1024u);
    EXPECT_EQ(log.outstanding(), 3u);
    log.queued(101, "acme/r", *msg("t", "after", 1));  // appended to the new file
    ASSERT_TRUE(log.done(98));
    ASSERT_TRUE(log.flush());
  }
  persist::RuleLog log(path);
  EXPECT_EQ(log.max_seq(), 101u);
  auto r = log.take_recovered(broker::wall_ms(), broker::now_ms());
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].seq, 99u);
  EXPECT_EQ(r[1].seq, 100u);
  EXPECT_EQ(r[2].message->payload, "after");
}

// A backlog an older version left in broker.db's rule_queue table (before the
// rules log): read back at start, deleted there once delivered, and new seqs
// stay above it.
TEST(BrokerStore, ABacklogInTheOldTableIsReadBackAndDeletedWhenDelivered) {
  TempDir dir;
  { persist::BrokerStore st(dir.db(), {}); }  // makes the schema
  {
    auto db = store::SqliteDb::open(dir.db());
    const std::string blob = persist::encode_message(*msg("t/old", "old", 1));
    db->prepare("INSERT INTO rule_queue VALUES(?,?,?)").bind(1, uint64_t(500)).bind(2, std::string("acme/r1"))
        .bind(3, store::Blob{blob}).run();
  }
  {
    persist::BrokerStore st(dir.db(), {persist::FsyncMode::Always, 0});
    auto r = st.recover();
    ASSERT_EQ(r.rule_entries.size(), 1u);
    EXPECT_EQ(r.rule_entries[0].seq, 500u);
    EXPECT_EQ(r.rule_entries[0].message->payload, "old");
    st.start(nullptr);
    EXPECT_GT(rule_queued(st, "acme/r1", "new"), 500u);
    rule_done(st, 500);
    st.stop();
  }
  persist::BrokerStore st(dir.db(), {});
  auto r = st.recover();
  ASSERT_EQ(r.rule_entries.size(), 1u);
  EXPECT_EQ(r.rule_entries[0].message->payload, "new");
}

// Issue 19, the runners' path (submit_rule_queued / submit_rule_done: no
// PersistRecord per entry, one RuleDone call and one 'M' record per delivered
// batch): what is outstanding comes back after a restart, and an entry queued
// and delivered within one writer batch never reaches the file.
TEST(BrokerStore, RuleRecordsOfTheRunnersPathSurviveARestartAndCancelInOneBatch) {
  TempDir dir;
  persist::BrokerStoreOptions o{persist::FsyncMode::Always, 0};
  auto key = std::make_shared<const std::string>("acme/r2");
  std::vector<uint64_t> seqs;
  {
    persist::BrokerStore st(dir.db(), o);
    st.recover();
    // Before start(): these make one batch, in which the first is also done.
    for (int i = 0; i < 3; ++i) seqs.push_back(st.submit_rule_queued(key, msg("t/a", "payload-" + std::to_string(i), 1), true));
    st.submit_rule_done(&seqs[0], 1);
    st.start(nullptr);
    wait_durable(st, seqs.back());
    for (int i = 3; i < 8; ++i) {
      seqs.push_back(st.submit_rule_queued(key, msg("t/a", "payload-" + std::to_string(i), 1), true));
      wait_durable(st, seqs.back());  // a batch each
    }
    const uint64_t done[] = {seqs[1], seqs[3], seqs[5], 999999};  // 999999: unknown, ignored
    st.submit_rule_done(done, 4);
    st.stop();
  }
  {
    std::ifstream f(dir.db() + "-rules", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("payload-0"), std::string::npos) << "queued and done in one batch: never written";
    EXPECT_NE(bytes.find("payload-1"), std::string::npos);
  }
  persist::BrokerStore st(dir.db(), o);
  auto r = st.recover();
  ASSERT_EQ(r.rule_entries.size(), 4u);
  const size_t left[] = {2, 4, 6, 7};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r.rule_entries[i].seq, seqs[left[i]]);
    EXPECT_EQ(r.rule_entries[i].rule, "acme/r2");
    EXPECT_EQ(r.rule_entries[i].message->payload, "payload-" + std::to_string(left[i]));
  }
}

// Group commit (issue 19): records submitted while an fdatasync is in flight
// (the writer's own, for a batch of only rule records, or the syncer's) do
// not make a batch, a write() and a wake-up each, as they did at a steady
// rate: they go in one batch once it returns, and none is reported durable
// before the fdatasync that covers it.
TEST(BrokerStore, RecordsArrivingDuringAnFdatasyncAreWrittenTogetherAfterIt) {
  TempDir dir;
  std::mutex mu;
  std::condition_variable cv;
  int started = 0, released = 0;  // fdatasyncs begun / let through
  persist::BrokerStoreOptions o{persist::FsyncMode::Batch, 0};
  o.before_sync = [&] {
    std::unique_lock l(mu);
    const int me = ++started;
    cv.notify_all();
    cv.wait(l, [&] { return released >= me; });
  };
  auto wait_started = [&](int n) {
    std::unique_lock l(mu);
    return cv.wait_for(l, std::chrono::seconds(5), [&] { return started >= n; });
  };
  auto release = [&] {
    std::lock_guard l(mu);
    ++released;
    cv.notify_all();
  };
  auto key = std::make_shared<const std::string>("acme/r1");
  std::vector<uint64_t> seqs;
  {
    persist::BrokerStore st(dir.db(), o);
    st.recover();
    st.start(nullptr);
    seqs.push_back(st.submit_rule_queued(key, msg("t/a", "payload-0", 1), true));
    ASSERT_TRUE(wait_started(1));  // its fdatasync is in flight (held)
    EXPECT_EQ(st.stats().batches, 1u);
    for (int i = 1; i <= 20; ++i) {  // a steady rate while it is held
      seqs.push_back(st.submit_rule_queued(key, msg("t/a", "payload-" + std::to_string(i), 1), true));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(st.stats().batches, 1u) << "nothing written while the fdatasync is in flight";
    EXPECT_LT(st.durable(), seqs[0]) << "not durable before its fdatasync returned";
    release();
    ASSERT_TRUE(wait_started(2));  // the 20: written, their fdatasync in flight (held)
    EXPECT_EQ(st.stats().batches, 2u) << "the 20 in one batch: one write()";
    EXPECT_EQ(st.stats().records, 21u);
    EXPECT_EQ(st.durable(), seqs[0]) << "the first reported; the 20 not before their fdatasync";
    release();
    wait_durable(st, seqs.back());
    {
      std::lock_guard l(mu);
      released = 1000;  // the rest (stop) goes through
      cv.notify_all();
    }
    EXPECT_EQ(st.stats().batches, 2u);
    st.stop();
  }
  persist::BrokerStore st(dir.db(), {persist::FsyncMode::Batch, 0});
  auto r = st.recover();
  ASSERT_EQ(r.rule_entries.size(), seqs.size());
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(r.rule_entries[i].seq, seqs[i]);
}

// The window (window_ms): after a quiet spell the writer waits that long for
// more records, so a record and those that follow it within the window make
// one batch (one write(), one fdatasync), not one each.
TEST(BrokerStore, TheWindowGathersRecordsThatFollowTheFirstIntoOneBatch) {
  TempDir dir;
  persist::BrokerStoreOptions o{persist::FsyncMode::Batch, 10};
  auto key = std::make_shared<const std::string>("acme/r1");
  persist::BrokerStore st(dir.db(), o);
  st.recover();
  st.start(nullptr);
  uint64_t last = st.submit_rule_queued(key, msg("t/a", "first", 1), true);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a writer without a window has written it by now
  for (int i = 0; i < 4; ++i) last = st.submit_rule_queued(key, msg("t/a", "next", 1), true);
  wait_durable(st, last);
  EXPECT_EQ(st.stats().batches, 1u);
  EXPECT_EQ(st.stats().records, 5u);
  st.stop();
}

// rule_hold_ms: a rule's entry waits in memory for its target. Delivered
// (RuleDone) within the hold, it is never written, and its ticket is reported
// durable then (its PUBACK goes out: the message is at the target); not
// delivered, it is written once the hold is over and its ticket follows the
// fdatasync. Either way nothing acknowledged is only in memory.
namespace {
persist::BrokerStoreOptions holding(int hold_ms) {
  persist::BrokerStoreOptions o{persist::FsyncMode::Batch, 0};
  o.rule_hold_ms = hold_ms;
  return o;
}
uintmax_t rules_log_size(const TempDir& dir) { return std::filesystem::file_size(dir.db() + "-rules"); }
// A store holding rule entries `hold_ms`, read back and started.
std::unique_ptr<persist::BrokerStore> started(const TempDir& dir, int hold_ms) {
  auto st = std::make_unique<persist::BrokerStore>(dir.db(), holding(hold_ms));
  st->recover();
  st->start(nullptr);
  return st;
}
}  // namespace

TEST(BrokerStore, AnEntryItsTargetTookWithinTheHoldIsNeverWritten) {
  TempDir dir;
  auto key = std::make_shared<const std::string>("acme/r1");
  {
    auto store = started(dir, 1000);
    persist::BrokerStore& st = *store;
    EXPECT_EQ(st.rule_hold_ms(), 1000);
    std::vector<uint64_t> seqs;
    for (int i = 0; i < 5; ++i) seqs.push_back(st.submit_rule_queued(key, msg("t/a", "m" + std::to_string(i), 1), true));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_LT(st.durable(), seqs[0]);  // held: neither written nor delivered
    const auto t0 = std::chrono::steady_clock::now();
    st.submit_rule_done(seqs.data(), 3);  // the first three reached the target
    wait_durable(st, seqs[2]);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));  // at once, not after the hold
    EXPECT_LT(st.durable(), seqs[3]);
    EXPECT_EQ(rules_log_size(dir), 0u);
    st.submit_rule_done(seqs.data() + 3, 2);
    wait_durable(st, seqs[4]);
    EXPECT_EQ(st.stats().cancelled, 5u);
    st.stop();
    EXPECT_EQ(rules_log_size(dir), 0u);  // nothing of the five ever reached the disk
  }
  persist::BrokerStore st(dir.db(), holding(1000));
  EXPECT_TRUE(st.recover().rule_entries.empty());
}

TEST(BrokerStore, AnEntryNotDeliveredWithinTheHoldIsWrittenThen) {
  TempDir dir;
  auto key = std::make_shared<const std::string>("acme/r1");
  uint64_t a, b;
  {
    auto store = started(dir, 100);
    persist::BrokerStore& st = *store;
    const auto t0 = std::chrono::steady_clock::now();
    a = st.submit_rule_queued(key, msg("t/a", "slow", 1), true);
    b = st.submit_rule_queued(key, msg("t/a", "taken", 1), true);
    wait_durable(st, a);  // the target never took it: written after the hold, then fdatasynced
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
    EXPECT_GT(rules_log_size(dir), 0u);
    uint64_t both[] = {a, b};
    st.submit_rule_done(both, 2);  // delivered after it was written: its RuleDone is written too
    wait_durable(st, b);
    st.stop();
  }
  persist::BrokerStore st(dir.db(), holding(100));
  EXPECT_TRUE(st.recover().rule_entries.empty());
}

// An entry its runner does not let the store hold (the target failing or
// behind) is written at once, also behind a held one; the tickets reported
// still wait for the held one (the frontier never passes an entry that is
// neither written nor delivered).
TEST(BrokerStore, AnEntryNotToBeHeldIsWrittenAtOnceBehindAHeldOne) {
  TempDir dir;
  auto key = std::make_shared<const std::string>("acme/r1");
  uint64_t a, b;
  {
    auto store = started(dir, 1000);
    persist::BrokerStore& st = *store;
    a = st.submit_rule_queued(key, msg("t/a", "held", 1), true);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    b = st.submit_rule_queued(key, msg("t/a", "now", 1), false);
    for (int i = 0; i < 250 && rules_log_size(dir) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_GT(rules_log_size(dir), 0u);  // b, long before a's hold is over
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_LT(st.durable(), a);
    st.submit_rule_done(&a, 1);
    wait_durable(st, b);
    st.stop();
  }
  persist::BrokerStore st(dir.db(), holding(1000));
  auto rec = st.recover();
  ASSERT_EQ(rec.rule_entries.size(), 1u);
  EXPECT_EQ(rec.rule_entries[0].seq, b);
}

// A delivered entry that never reached the disk leaves no record of its seq:
// the next run must not hand it out again (JetStream drops a repeated
// Nats-Msg-Id as a duplicate within its window: a loss).
TEST(BrokerStore, ASeqDeliveredBeforeItWasWrittenIsNotUsedAgainAfterARestart) {
  TempDir dir;
  auto key = std::make_shared<const std::string>("acme/r1");
  uint64_t a;
  {
    auto store = started(dir, 1000);
    persist::BrokerStore& st = *store;
    a = st.submit_rule_queued(key, msg("t/a", "one", 1), true);
    st.submit_rule_done(&a, 1);
    wait_durable(st, a);
    st.stop();
    EXPECT_EQ(rules_log_size(dir), 0u);
  }
  auto st = started(dir, 1000);
  EXPECT_GT(st->submit_rule_queued(key, msg("t/a", "two", 1), true), a);
  st->stop();
}

// Another record's ticket would wait behind the held entries: a batch with
// one writes them at once; so does stop().
TEST(BrokerStore, AnotherRecordOrAStopEndsTheHold) {
  TempDir dir;
  auto key = std::make_shared<const std::string>("acme/r1");
  uint64_t a, c;
  {
    auto store = started(dir, 1000);
    persist::BrokerStore& st = *store;
    a = st.submit_rule_queued(key, msg("t/a", "one", 1), true);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto t0 = std::chrono::steady_clock::now();
    PersistRecord r{PersistRecord::Kind::SessionSaved};
    r.key = st.new_session_key();
    r.client_id = "c1";
    const uint64_t s = st.submit(std::move(r));
    wait_durable(st, s);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
    EXPECT_GE(st.durable(), a);
    c = st.submit_rule_queued(key, msg("t/a", "two", 1), true);
    st.stop();  // c is held: written before the writer ends
  }
  persist::BrokerStore st(dir.db(), holding(1000));
  auto rec = st.recover();
  ASSERT_EQ(rec.rule_entries.size(), 2u);
  EXPECT_EQ(rec.rule_entries[0].seq, a);
  EXPECT_EQ(rec.rule_entries[1].seq, c);
  EXPECT_EQ(rec.rule_entries[1].message->payload, "two");
}

// The outstanding entries' index: seqs done out of order are dropped once the
// front reaches them, and swept when an entry stuck at the front (a target
// that is down) holds many done ones behind it, so memory follows what is
// outstanding.
TEST(LiveIndex, OutOfOrderDoneAndAStuckFront) {
  persist::LiveIndex ix;
  for (uint64_t s = 1; s <= 5000; ++s) ix.add(s, {s * 100, 100});
  uint32_t len = 0;
  for (uint64_t s = 2; s <= 5000; ++s) ASSERT_TRUE(ix.remove(s, len));
  EXPECT_EQ(ix.size(), 1u);
  EXPECT_LT(ix.slots(), 1100u);  // swept, not 5000
  EXPECT_FALSE(ix.remove(3, len));
  ix.add(7000, {1, 2});
  ix.add(6000, {3, 4});  // out of order: kept sorted
  std::vector<uint64_t> order;
  ix.for_each([&](uint64_t s, persist::LiveIndex::Loc&) { order.push_back(s); });
  EXPECT_EQ(order, (std::vector<uint64_t>{1, 6000, 7000}));
  ASSERT_TRUE(ix.remove(1, len));
  EXPECT_EQ(len, 100u);
  ASSERT_TRUE(ix.remove(6000, len));
  ASSERT_TRUE(ix.remove(7000, len));
  EXPECT_TRUE(ix.empty());
  EXPECT_EQ(ix.slots(), 0u);
}
