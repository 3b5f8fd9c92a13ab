// The wiring of ApsaraMQ instances to broker namespaces: one namespace per
// instance, made with the instance's limits, kept in step with UpdateInstance,
// carrying the instance's tracer; and an instance's settings mapped onto the
// broker's limits.
#include "app/mq_binding.hpp"

#include <gtest/gtest.h>

#include "broker/broker.hpp"
#include "broker/namespace.hpp"
#include "iam/test_util.hpp"
#include "mq/mq_service.hpp"

using namespace sluice;
using iam::testing::IamFixture;

namespace {

class MqBinding : public IamFixture {
 protected:
  void SetUp() override {
    IamFixture::SetUp();
    broker_ = std::make_unique<broker::Broker>(1);
    auto store = std::shared_ptr<store::Store>(&iam_->store(), [](store::Store*) {});  // the IamService owns it
    mq_ = std::make_unique<mq::MqService>(store, *iam_);
    app::bind_mq_to_broker(*mq_, *broker_);
    acct = new_account("acme");
    ASSERT_OK(iam_->activate_service(acct, "mq"));
    auto i = mq_->CreateInstance(acct, mq::InstanceSpec{"demo", "", "", std::nullopt, ""});
    ASSERT_TRUE(i.ok()) << i.error().message;
    inst = i->id;
  }
  void TearDown() override {
    mq_.reset();
    broker_.reset();
    IamFixture::TearDown();
  }
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<mq::MqService> mq_;
  std::string acct, inst;
};

}  // namespace

TEST_F(MqBinding, MessageTracesAreOptInPerInstance) {
  auto ns = broker_->find(inst);
  ASSERT_TRUE(ns);
  EXPECT_FALSE(ns->tracing());  // off by default: it costs about as much as routing
  mq::InstanceSettings s;
  s.message_trace = true;
  ASSERT_OK(mq_->UpdateInstance(acct, inst, std::nullopt, std::nullopt, s));
  EXPECT_TRUE(ns->tracing());
  ASSERT_TRUE(ns->tracer());
  broker::Message m;
  m.topic = "Sensors/x";
  m.qos = 1;
  ns->tracer()->published(m, "GID_dev@@@pub");
  auto pubs = mq_->QueryMqttTraceMessagePublish(acct, inst, "", 0, INT64_MAX);
  ASSERT_TRUE(pubs.ok());
  ASSERT_EQ(pubs->size(), 1u);  // the namespace's tracer is the instance's
  EXPECT_EQ(pubs->at(0).client_id, "GID_dev@@@pub");
}

TEST_F(MqBinding, NamespaceLimitsFollowTheInstanceSettings) {
  auto ns = broker_->find(inst);
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->config(), app::namespace_config(mq::InstanceSettings{}, broker_->defaults()));
  mq::InstanceSettings s;
  s.max_payload = 1000;
  s.qos2 = false;
  ASSERT_OK(mq_->UpdateInstance(acct, inst, std::nullopt, std::nullopt, s));
  EXPECT_EQ(ns->config(), app::namespace_config(s, broker_->defaults()));
  EXPECT_EQ(ns->config().maximum_qos, 1);
  // A second instance gets a namespace of its own at once.
  auto other = mq_->CreateInstance(acct, mq::InstanceSpec{"other", "", "", s, ""});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(broker_->find(other->id));
  EXPECT_EQ(broker_->find(other->id)->config(), app::namespace_config(s, broker_->defaults()));
}

TEST_F(MqBinding, SessionsOfClientsTheBrokerDoesNotKnowAreUnknown) {
  auto st = mq_->QuerySessionByClientId(acct, inst, "GID_dev@@@nobody");
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(st->known);
  EXPECT_FALSE(st->online);
  EXPECT_EQ(st->instance_id, inst);
  EXPECT_EQ(st->client_id, "GID_dev@@@nobody");
}

TEST(MqNamespaceConfig, InstanceSettingsWithinTheBrokersLimits) {
  broker::NamespaceConfig d;
  mq::InstanceSettings s;
  s.max_payload = 64 * 1024;
  s.max_topic_length = 64;
  s.max_subscriptions_per_client = 100000;  // above what a namespace can count
  s.offline_message_ttl_s = 60;
  s.retain_available = false;
  auto c = app::namespace_config(s, d);
  EXPECT_EQ(c.max_packet_size, 64u * 1024 + 64 * 4 + 1024);  // payload + longest topic + headers
  EXPECT_EQ(c.max_subscriptions_per_client, 65535);
  EXPECT_EQ(c.max_session_expiry, std::min<uint32_t>(d.max_session_expiry, 60));
  EXPECT_FALSE(c.retain_available);
  EXPECT_TRUE(c.p2p_topics);
  s.max_payload = 1u << 30;  // never above the broker's own packet limit
  EXPECT_EQ(app::namespace_config(s, d).max_packet_size, d.max_packet_size);
}
