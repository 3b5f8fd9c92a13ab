// The retained mirror against a real nats-server (scripts/nats.sh): a write
// another node has had acknowledged is in this node's mirror by the time
// when_current answers, however far the watch lags.
#include "cluster/retained.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "broker/clock.hpp"
#include "cluster/durability.hpp"
#include "cluster/nats_link.hpp"
#include "cluster/test_nats.hpp"
#include "persist/message_codec.hpp"

using namespace sluice;
using namespace sluice::cluster;
using namespace std::chrono_literals;

namespace {

// Writes a retained message as the publishing node does and waits for
// JetStream's acknowledgement (what its PUBACK waits for).
void write_retained(NatsLink& link, const std::string& ns, const std::string& topic, const std::string& payload) {
  broker::Message m;
  m.topic = topic;
  m.payload = payload;
  m.retain = true;
  m.qos = 1;
  std::promise<bool> stored;
  link.kv_write_async(ClusterDurability::kRetainedBucket, ClusterDurability::retained_key(ns, topic),
                      persist::encode_message(m), [&stored](bool ok) { stored.set_value(ok); });
  ASSERT_TRUE(stored.get_future().get());
}

}  // namespace

TEST(RetainedMirror, AnAcknowledgedWriteIsInTheMirrorWhenItSaysCurrent) {
  cluster::testing::TestNats nats;
  NatsLink writer({nats.urls(), "writer"});
  NatsLink reader({nats.urls(), "reader"});
  writer.ensure_kv(ClusterDurability::kRetainedBucket);
  reader.ensure_kv(ClusterDurability::kRetainedBucket);
  RetainedMirror mirror;
  auto store = mirror.make("ns1");
  ASSERT_TRUE(store->mirrored());
  mirror.start(reader);
  for (int i = 0; i < 40; ++i) {
    const std::string topic = "dev/" + std::to_string(i);
    write_retained(writer, "ns1", topic, "v" + std::to_string(i));
    std::promise<size_t> found;
    store->when_current([&] { found.set_value(store->match(topic, broker::now_ms()).size()); });
    auto f = found.get_future();
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready) << topic;
    EXPECT_EQ(f.get(), 1u) << topic;
  }
  EXPECT_EQ(store->match("dev/+", broker::now_ms()).size(), 40u);
  mirror.stop();
}

TEST(RetainedMirror, CallersAfterStopAreLetGo) {
  cluster::testing::TestNats nats;
  NatsLink link({nats.urls(), "node"});
  link.ensure_kv(ClusterDurability::kRetainedBucket);
  RetainedMirror mirror;
  auto store = mirror.make("ns1");
  mirror.start(link);
  mirror.stop();
  bool called = false;
  store->when_current([&] { called = true; });
  EXPECT_FALSE(called);
}
