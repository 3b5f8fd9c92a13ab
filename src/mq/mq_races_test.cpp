// Writers on two nodes at once (two MqServices, each over its own store
// connection, on one database): the per-instance limits hold exactly, even
// though each node checks first against its snapshot, which may be a
// notification behind the other node (docs/control-store.md, "Races").
#include <gtest/gtest.h>

#include <latch>
#include <mutex>
#include <thread>

#include "iam/test_util.hpp"
#include "mq/mq_service.hpp"

using namespace sluice;
using namespace sluice::mq;

namespace {

int64_t races_clock() { return iam::testing::g_now * 1000; }

class MqRaces : public iam::testing::IamFixture {
 protected:
  void SetUp() override {
    IamFixture::SetUp();
    MqOptions o;
    o.topics_per_instance = 3;
    o.instances_per_account = 2;
    mq1_ = std::make_unique<MqService>(std::shared_ptr<store::Store>(&iam_->store(), [](store::Store*) {}), *iam_, o,
                                       &races_clock);
    auto r = store::Store::open(dir_, store_options());  // node 2
    ASSERT_TRUE(r.store) << r.error;
    iam2_ = std::make_unique<iam::IamService>(std::shared_ptr<store::Store>(std::move(r.store)), limits_,
                                              &iam::testing::test_clock);
    mq2_ = std::make_unique<MqService>(std::shared_ptr<store::Store>(&iam2_->store(), [](store::Store*) {}), *iam2_,
                                       o, &races_clock);
    acct_ = new_account();
    ASSERT_OK(iam_->activate_service(acct_, "mq"));
  }
  void TearDown() override {
    mq2_.reset();
    iam2_.reset();
    mq1_.reset();
    IamFixture::TearDown();
  }
  template <class F>
  void at_once(F&& f) {
    std::latch go(2);
    std::thread t([&] {
      go.arrive_and_wait();
      f(*mq2_, 2);
    });
    go.arrive_and_wait();
    f(*mq1_, 1);
    t.join();
  }
  std::string acct_;
  std::unique_ptr<MqService> mq1_, mq2_;
  std::unique_ptr<iam::IamService> iam2_;
};

}  // namespace

TEST_F(MqRaces, TopicsPerInstanceHoldAcrossNodes) {
  auto in = mq1_->CreateInstance(acct_, InstanceSpec{"i", "", "", std::nullopt, ""});
  ASSERT_TRUE(in.ok()) << in.error().message;
  // Node 2 sees the instance (its change feed).
  for (int i = 0; i < 100 && !mq2_->GetInstance(acct_, in->id).ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    (void)mq2_->generation();  // what the broker's checks do: polls the change feed
  }
  int ok = 0;
  std::mutex mu;
  std::vector<std::string> other;
  at_once([&](MqService& s, int node) {
    for (int i = 0; i < 3; ++i) {
      auto r = s.CreateTopic(acct_, in->id, "T" + std::to_string(node) + "_" + std::to_string(i));
      std::lock_guard lk(mu);
      if (r.ok())
        ++ok;
      else if (r.error().code != "LimitExceeded.Topic")
        other.push_back(r.error().code + ": " + r.error().message);
    }
  });
  EXPECT_TRUE(other.empty()) << other.front();
  EXPECT_EQ(ok, 3);
  auto q = iam_->store().db().query("SELECT COUNT(*) FROM mq_topics WHERE instance_id = ?", in->id);
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), 3);
}

TEST_F(MqRaces, InstancesPerAccountHoldAcrossNodes) {
  int ok = 0;
  std::mutex mu;
  at_once([&](MqService& s, int node) {
    for (int i = 0; i < 2; ++i) {
      auto r = s.CreateInstance(acct_, InstanceSpec{"n" + std::to_string(node), "", "", std::nullopt, ""});
      std::lock_guard lk(mu);
      if (r.ok()) ++ok;
      else EXPECT_EQ(r.error().code, "LimitExceeded.Instance") << r.error().message;
    }
  });
  EXPECT_EQ(ok, 2);
  auto q = iam_->store().db().query("SELECT COUNT(*) FROM mq_instances WHERE account_id = ?", acct_);
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), 2);
}

// ListGroupId / ListTopic are answered from the node's snapshot, after
// draining its change feed: what another node committed shows up without the
// 200 ms poll the broker's checks drive (nothing here polls), with its remark
// and creation time, in name order. SQLite's feed is read synchronously (the
// first list shows it); PostgreSQL's notification may still be on its way for
// a moment right after the other node's COMMIT returned.
TEST_F(MqRaces, ListsShowWhatAnotherNodeCommitted) {
  auto in = mq1_->CreateInstance(acct_, InstanceSpec{"i", "", "", std::nullopt, ""});
  ASSERT_TRUE(in.ok()) << in.error().message;
  const bool pg = on_postgres();
  auto names = [](const auto& list) {
    std::string s;
    for (const auto& g : list) s += g.group_id + "(" + g.remark + ") ";
    return s;
  };
  // Until node 2 answers `want` (at once on SQLite; within a second on PostgreSQL).
  auto groups_on_2 = [&](const std::string& want) {
    std::string got;
    for (int i = 0; i < (pg ? 100 : 1); ++i) {
      auto l = mq2_->ListGroupId(acct_, in->id);
      got = l.ok() ? names(*l) : l.error().code;
      if (got == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return got;
  };
  EXPECT_EQ(groups_on_2(""), "");
  iam::testing::g_now += 5;
  auto b = mq1_->CreateGroupId(acct_, in->id, "GID_bbb", "second");
  ASSERT_TRUE(b.ok()) << b.error().message;
  ASSERT_TRUE(mq1_->CreateGroupId(acct_, in->id, "GID_aaa", "first").ok());
  EXPECT_EQ(groups_on_2("GID_aaa(first) GID_bbb(second) "), "GID_aaa(first) GID_bbb(second) ");
  auto l = mq2_->ListGroupId(acct_, in->id);
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[1].created_at, b->created_at);
  EXPECT_EQ((*l)[1].instance_id, in->id);
  ASSERT_TRUE(mq1_->DeleteGroupId(acct_, in->id, "GID_aaa").ok());
  EXPECT_EQ(groups_on_2("GID_bbb(second) "), "GID_bbb(second) ");
  // Topics take the same path.
  ASSERT_TRUE(mq1_->CreateTopic(acct_, in->id, "T1", "t").ok());
  std::string topics;
  for (int i = 0; i < (pg ? 100 : 1) && topics != "T1(t)"; ++i) {
    auto t = mq2_->ListTopic(acct_, in->id);
    topics = t.ok() && t->size() == 1 ? (*t)[0].topic + "(" + (*t)[0].remark + ")" : "";
    if (topics != "T1(t)") std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(topics, "T1(t)");
  // Another account's instance does not exist for this one.
  const std::string other = new_account("other");
  auto r = mq2_->ListGroupId(other, in->id);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "EntityNotExist.Instance");
}
