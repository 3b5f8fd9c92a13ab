// The management API of a cluster answers for every node (mq_peers.cpp): two
// MqServices over one control store, as two nodes over one PostgreSQL, each
// with its own broker's view of its clients; the questions travel between
// them in process here (over NATS in a cluster: cluster/peer_calls_test.cpp,
// tests/integration/test_cluster_api.py).
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "iam/test_util.hpp"
#include "mq/mq_service.hpp"

using namespace sluice;
using namespace sluice::mq;

namespace {

struct InProcess final : PeerNodes {
  std::vector<MqService*> others;
  std::vector<std::string> extra;  // answers a broken or foreign node might send
  std::vector<std::string> ask_all(std::string_view q) override {
    std::vector<std::string> out = extra;
    for (auto* o : others) out.push_back(o->answer_peer(q));
    return out;
  }
};

// One node's broker, as far as the management API sees it.
struct Clients {
  std::map<std::string, SessionStatus> known;
  MqService::SessionLookup lookup() {
    return [this](std::string_view, std::string_view id) -> std::optional<SessionStatus> {
      auto it = known.find(std::string(id));
      if (it == known.end()) return std::nullopt;
      return it->second;
    };
  }
};

SessionStatus session(bool online, std::string remote, std::vector<std::pair<std::string, uint8_t>> subs = {}) {
  SessionStatus s;
  s.known = true;
  s.online = online;
  s.remote_address = std::move(remote);
  for (const auto& [f, q] : subs) s.filters.push_back(f);
  s.subscription_list = std::move(subs);
  s.subscriptions = s.filters.size();
  s.queued = 3;
  return s;
}

class MqPeers : public iam::testing::IamFixture {
 protected:
  void SetUp() override {
    IamFixture::SetUp();
    auto store = std::shared_ptr<store::Store>(&iam_->store(), [](store::Store*) {});
    a_ = std::make_unique<MqService>(store, *iam_);
    b_ = std::make_unique<MqService>(store, *iam_);
    a_->set_session_lookup(on_a.lookup());
    b_->set_session_lookup(on_b.lookup());
    auto to_b = std::make_shared<InProcess>(), to_a = std::make_shared<InProcess>();
    to_b->others = {b_.get()};
    to_a->others = {a_.get()};
    from_a = to_b.get();
    a_->set_peers(to_b);
    b_->set_peers(to_a);
    acct = new_account("acme");
    ASSERT_OK(iam_->activate_service(acct, "mq"));
    auto i = a_->CreateInstance(acct, InstanceSpec{"demo", "", "", std::nullopt, ""});
    ASSERT_TRUE(i.ok()) << i.error().message;
    inst = i->id;
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    IamFixture::TearDown();
  }
  Clients on_a, on_b;
  std::unique_ptr<MqService> a_, b_;
  InProcess* from_a = nullptr;
  std::string acct, inst;
};

}  // namespace

TEST_F(MqPeers, AClientOnAnotherNodeIsFoundWithItsSession) {
  on_b.known["GID_dev@@@b"] = session(true, "192.0.2.7:5000", {{"Sensors/#", 1}, {"Sensors/x", 0}});
  auto r = a_->QuerySessionByClientId(acct, inst, "GID_dev@@@b");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->online);
  EXPECT_TRUE(r->known);
  EXPECT_EQ(r->remote_address, "192.0.2.7:5000");
  EXPECT_EQ(r->subscription_list, (std::vector<std::pair<std::string, uint8_t>>{{"Sensors/#", 1}, {"Sensors/x", 0}}));
  EXPECT_EQ(r->subscriptions, 2u);
  EXPECT_EQ(r->queued, 3u);
  EXPECT_EQ(r->client_id, "GID_dev@@@b");
  EXPECT_EQ(r->instance_id, inst);
}

// Connected beats known: a session offline here and online there is online
// (the client moved); one known nowhere is unknown; the batch keeps its order.
TEST_F(MqPeers, TheBatchAnswersForEveryNodeInOrder) {
  on_a.known["moved"] = session(false, "192.0.2.1:1");
  on_b.known["moved"] = session(true, "192.0.2.2:2");
  on_a.known["here"] = session(true, "192.0.2.3:3");
  on_b.known["parked"] = session(false, "192.0.2.4:4");
  auto r = a_->BatchQuerySessionByClientIds(acct, inst, {"nobody", "moved", "here", "parked"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 4u);
  EXPECT_FALSE((*r)[0].known);
  EXPECT_EQ((*r)[0].client_id, "nobody");
  EXPECT_TRUE((*r)[1].online);
  EXPECT_EQ((*r)[1].remote_address, "192.0.2.2:2");
  EXPECT_TRUE((*r)[2].online);
  EXPECT_EQ((*r)[2].remote_address, "192.0.2.3:3");
  EXPECT_TRUE((*r)[3].known);
  EXPECT_FALSE((*r)[3].online);
  EXPECT_EQ((*r)[3].remote_address, "192.0.2.4:4");
}

// A node that answers garbage, the wrong count, or nothing does not hurt the
// answer, and a question this node cannot read gets an empty answer.
TEST_F(MqPeers, UnreadableAnswersAndQuestionsAreIgnored) {
  from_a->extra = {"", "not json", "[]", R"({"sessions":[{"online":true}, {}]})",
                   R"({"sessions":[{"online":"yes","subs":[[1,2],["a"],["t",9]],"queued":-5}]})"};
  on_b.known["c"] = session(false, "192.0.2.9:9");
  auto r = a_->QuerySessionByClientId(acct, inst, "c");
  ASSERT_TRUE(r.ok());
  // The one-element garbage answer reads as a known, offline session at worst;
  // b's real one is as good, and nothing crashed.
  EXPECT_FALSE(r->online);
  EXPECT_TRUE(r->known);
  for (const char* q : {"", "{", "[1]", R"({"q":"sessions","ids":"x"})", R"({"q":"what"})",
                        R"({"q":"device_traces","begin":"x"})"})
    EXPECT_NO_THROW(b_->answer_peer(q)) << q;
  EXPECT_EQ(b_->answer_peer("{"), "");
  EXPECT_EQ(b_->answer_peer(R"({"q":"what"})"), "");
}

// CloseConnection reaches the node the client is connected to, and only it;
// a client connected nowhere leaves no request behind to close its next
// connection.
TEST_F(MqPeers, CloseConnectionReachesTheClientsNodeOnly) {
  on_b.known["c"] = session(true, "192.0.2.2:2");
  ASSERT_OK(a_->CloseConnection(acct, inst, "c"));
  EXPECT_FALSE(a_->take_close_request(inst, "c"));
  EXPECT_TRUE(b_->take_close_request(inst, "c"));
  on_b.known["c"].online = false;
  ASSERT_OK(a_->CloseConnection(acct, inst, "c"));
  on_b.known["c"].online = true;  // it comes back later: not closed for the old request
  EXPECT_FALSE(b_->take_close_request(inst, "c"));
  EXPECT_FALSE(a_->take_close_request(inst, "c"));
}

// Traces are each node's own; a query through one node sees them all, in
// time order, the earliest 1,000 at most, as one node answers.
TEST_F(MqPeers, TracesOfEveryNodeInTimeOrder) {
  // Within the traces' 3 days.
  const int64_t base = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count() - 3'600'000;
  auto dev = [base](int64_t t, std::string what) {
    DeviceTrace d;
    d.time_ms = base + t;
    d.client_id = "c";
    d.action = std::move(what);
    d.remote_ip = "192.0.2.1";
    return d;
  };
  a_->traces().device(inst, dev(1000, "connect"));
  b_->traces().device(inst, dev(2000, "disconnect"));
  b_->traces().device(inst, dev(500, "auth_failed"));
  auto r = a_->QueryMqttTraceDevice(acct, inst, "c", base, base + 10'000);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].action, "auth_failed");
  EXPECT_EQ((*r)[1].action, "connect");
  EXPECT_EQ((*r)[2].action, "disconnect");
  EXPECT_EQ((*r)[2].remote_ip, "192.0.2.1");

  MessageTrace m;
  m.time_ms = base + 3000;
  m.msg_id = "m1";
  m.topic = "Sensors/x";
  m.client_id = "GID_dev@@@sub";
  m.action = "deliver";
  m.qos = 1;
  b_->traces().message(inst, m);
  auto s = a_->QueryMqttTraceMessageSubscribe(acct, inst, "m1", "", base, base + 10'000);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 1u);
  EXPECT_EQ((*s)[0].topic, "Sensors/x");
  EXPECT_EQ((*s)[0].qos, 1);
  EXPECT_TRUE(a_->QueryMqttTraceMessagePublish(acct, inst, "m1", base, base + 10'000)->empty()) << "deliver, not pub";

  for (int i = 0; i < 800; ++i) {
    a_->traces().device(inst, dev(20'000 + 2 * i, "connect"));
    b_->traces().device(inst, dev(20'001 + 2 * i, "connect"));
  }
  auto many = a_->QueryMqttTraceDevice(acct, inst, "c", base + 20'000, base + 100'000);
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many->size(), 1000u);
  for (size_t i = 0; i < many->size(); ++i) EXPECT_EQ((*many)[i].time_ms, base + 20'000 + int64_t(i)) << i;
}
