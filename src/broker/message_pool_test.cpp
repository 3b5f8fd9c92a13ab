// Pooled messages come back empty, whichever thread dropped them last.
#include <gtest/gtest.h>

#include <thread>

#include "broker/message_pool.hpp"

using namespace sluice::broker;

TEST(MessagePool, RecycledMessageIsEmpty) {
  for (int i = 0; i < 3; ++i) {
    auto m = make_pooled_message();
    EXPECT_TRUE(m->topic.empty());
    EXPECT_TRUE(m->payload.empty());
    EXPECT_EQ(m->qos, 0);
    EXPECT_FALSE(m->retain);
    EXPECT_FALSE(m->payload_format);
    EXPECT_FALSE(m->content_type);
    EXPECT_FALSE(m->response_topic);
    EXPECT_FALSE(m->correlation_data);
    EXPECT_TRUE(m->user_properties.empty());
    EXPECT_EQ(m->expiry_at_ms, 0);
    EXPECT_EQ(m->origin, 0u);
    m->topic = "a/b";
    m->payload = std::string(100, 'x');
    m->qos = 1;
    m->retain = true;
    m->payload_format = 1;
    m->content_type = "text/plain";
    m->response_topic = "r";
    m->correlation_data = "c";
    m->user_properties.emplace_back("k", "v");
    m->expiry_at_ms = 5;
    m->origin = 9;
  }
}

TEST(MessagePool, DroppedOnAnotherThreadAndAfterItsPoolIsGone) {
  std::vector<MessagePtr> made;
  for (int i = 0; i < 1000; ++i) {
    auto m = make_pooled_message();
    m->payload = std::string(size_t(i), 'p');  // some over the kept capacity
    made.push_back(std::move(m));
  }
  std::thread([&] { made.clear(); }).join();  // recycled into (then freed with) that thread's pool
  std::thread([] {
    // Made on this thread, released by this thread's teardown after its pools.
    thread_local MessagePtr late;
    late = make_pooled_message();
  }).join();
  auto m = make_pooled_message();
  EXPECT_TRUE(m->payload.empty());
}

// Issue 19: messages made on one thread (an event loop) and dropped last on
// another (a rule's worker) come back to the thread that makes them, buffers
// and all, instead of a malloc there and a free here per message.
TEST(MessagePool, MessagesDroppedElsewhereComeBackToTheThreadThatMakesThem) {
  if (!message_pooling()) GTEST_SKIP() << "no pooling under AddressSanitizer";
  std::thread([] {  // fresh pools
    std::vector<MessagePtr> made;
    for (int i = 0; i < 1000; ++i) {
      auto m = make_pooled_message();
      m->payload.reserve(300);
      made.push_back(std::move(m));
    }
    std::thread([&] { made.clear(); }).join();
    std::vector<MessagePtr> again;
    for (int i = 0; i < 100; ++i) again.push_back(make_pooled_message());
    for (const auto& m : again) {
      EXPECT_GE(m->payload.capacity(), 300u);
      EXPECT_TRUE(m->payload.empty());
    }
  }).join();
}
