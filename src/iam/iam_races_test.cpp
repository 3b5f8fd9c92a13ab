// Writers on two nodes at once (two IamServices, each with its own store
// connection, on the same database): what SQLite's single writer serialized
// must hold when the writers are on different nodes of one PostgreSQL
// (docs/control-store.md, "Races"). Each race is started from two threads
// released together, many times over. On SQLite the two connections are
// serialized by the file lock, and the same answers must come out.
#include <gtest/gtest.h>

#include <latch>
#include <thread>

#include "iam/test_util.hpp"

using namespace sluice::iam;
using sluice::iam::testing::IamFixture;

namespace {

class IamRaces : public IamFixture {
 protected:
  void SetUp() override {
    IamFixture::SetUp();
    acct_ = new_account();
    auto r = sluice::store::Store::open(dir_, store_options());  // node 2
    ASSERT_TRUE(r.store) << r.error;
    node2_ = std::make_unique<IamService>(std::shared_ptr<sluice::store::Store>(std::move(r.store)), limits_,
                                          &sluice::iam::testing::test_clock);
  }
  void TearDown() override {
    node2_.reset();
    IamFixture::TearDown();
  }
  // Runs a(IamService&) on node 1 and b on node 2 at the same moment.
  template <class A, class B>
  void at_once(A&& a, B&& b) {
    std::latch go(2);
    std::thread t([&] {
      go.arrive_and_wait();
      b(*node2_);
    });
    go.arrive_and_wait();
    a(*iam_);
    t.join();
  }
  std::string acct_;
  std::unique_ptr<IamService> node2_;
};

template <class T>
std::string code_of(const Result<T>& r) {
  return r.ok() ? "ok" : r.error().code;
}

}  // namespace

// Two nodes create the same user at once: one wins, the other is told the name
// is taken, exactly as when the second call comes later on one node.
TEST_F(IamRaces, SameUserFromTwoNodesOneWins) {
  for (int i = 0; i < 20; ++i) {
    const std::string name = "u" + std::to_string(i);
    std::string c1, c2;
    at_once([&](IamService& s) { c1 = code_of(s.create_user(acct_, {name, "", ""})); },
            [&](IamService& s) { c2 = code_of(s.create_user(acct_, {name, "", ""})); });
    EXPECT_TRUE((c1 == "ok" && c2 == "EntityAlreadyExists.User") || (c2 == "ok" && c1 == "EntityAlreadyExists.User"))
        << c1 << " / " << c2;
  }
  EXPECT_EQ(iam_->list_users(acct_)->size(), 20u);
}

// Role names are unique whatever their case: "Admin" on one node and "admin"
// on the other at once, one is refused (the unique index on lower(name)).
TEST_F(IamRaces, RoleNamesDifferingInCaseFromTwoNodes) {
  const std::string trust =
      R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::)" +
      acct_ + R"(:root"]}}]})";
  for (int i = 0; i < 10; ++i) {
    std::string c1, c2;
    at_once([&](IamService& s) { c1 = code_of(s.create_role(acct_, "Admin" + std::to_string(i), trust)); },
            [&](IamService& s) { c2 = code_of(s.create_role(acct_, "admin" + std::to_string(i), trust)); });
    EXPECT_TRUE((c1 == "ok" && c2 == "EntityAlreadyExists.Role") || (c2 == "ok" && c1 == "EntityAlreadyExists.Role"))
        << c1 << " / " << c2;
  }
  EXPECT_EQ(iam_->list_roles(acct_)->size(), 10u);
}

// A policy keeps at most five versions, however many nodes add versions at once.
TEST_F(IamRaces, FiveVersionLimitHoldsAcrossNodes) {
  const std::string doc = R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:PUB","Resource":"*"}]})";
  ASSERT_OK(iam_->create_policy(acct_, "p", doc));
  int ok = 0, limited = 0;
  std::vector<std::string> other;
  auto add = [&](IamService& s, std::mutex& mu) {
    for (int i = 0; i < 6; ++i) {
      auto r = s.create_policy_version(acct_, "p", doc, false);
      std::lock_guard lk(mu);
      if (r.ok())
        ++ok;
      else if (r.error().code == "LimitExceeded.Policy.Version")
        ++limited;
      else
        other.push_back(r.error().code + ": " + r.error().message);
    }
  };
  std::mutex mu;
  at_once([&](IamService& s) { add(s, mu); }, [&](IamService& s) { add(s, mu); });
  EXPECT_TRUE(other.empty()) << other.front();
  EXPECT_EQ(ok, 4);  // v1 was there: four more make five
  EXPECT_EQ(limited, 8);
  auto versions = iam_->list_policy_versions(acct_, PolicyType::Custom, "p");
  ASSERT_OK(versions);
  EXPECT_EQ(versions->size(), 5u);
  // Version ids are never handed out twice.
  std::set<std::string> ids;
  for (const auto& v : *versions) EXPECT_TRUE(ids.insert(v.version_id).second) << v.version_id;
}

// Per-account and per-user quotas are counted inside the transaction: two
// nodes adding access keys at once never pass the limit (2 per user).
TEST_F(IamRaces, QuotasHoldAcrossNodes) {
  ASSERT_OK(iam_->create_user(acct_, {"alice", "", ""}));
  int ok = 0;
  std::mutex mu;
  auto add = [&](IamService& s) {
    for (int i = 0; i < 3; ++i) {
      auto r = s.create_access_key(acct_, std::string("alice"));
      std::lock_guard lk(mu);
      if (r.ok())
        ++ok;
      else
        EXPECT_EQ(r.error().code, "LimitExceeded.User.AccessKey") << r.error().message;
    }
  };
  at_once(add, add);
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(iam_->list_access_keys(acct_, std::string("alice"))->size(), 2u);
}

// Two nodes creating the same account (login name) at once.
TEST_F(IamRaces, SameAccountFromTwoNodesOneWins) {
  for (int i = 0; i < 5; ++i) {
    const std::string alias = "co" + std::to_string(i);
    std::string c1, c2;
    at_once([&](IamService& s) { c1 = code_of(s.create_account(alias + "@x.com", alias, "password-123")); },
            [&](IamService& s) { c2 = code_of(s.create_account(alias + "@x.com", alias, "password-123")); });
    EXPECT_TRUE((c1 == "ok" && c2.rfind("EntityAlreadyExists.Account", 0) == 0) ||
                (c2 == "ok" && c1.rfind("EntityAlreadyExists.Account", 0) == 0))
        << c1 << " / " << c2;
  }
}

// A key disabled through node 2 is refused by node 1's cache within a second
// (the change feed; on PostgreSQL a NOTIFY naming the account).
TEST_F(IamRaces, AKeyDisabledOnOneNodeIsRefusedOnTheOther) {
  auto k = iam_->create_access_key(acct_, std::nullopt);
  ASSERT_OK(k);
  ASSERT_TRUE(iam_->lookup_access_key(k->key.id).ok());
  EXPECT_EQ(iam_->lookup_access_key(k->key.id)->status, KeyStatus::Active);
  ASSERT_OK(node2_->update_access_key(acct_, std::nullopt, k->key.id, KeyStatus::Inactive));
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2)) {
    (void)iam_->generation();  // what the broker's access checks do every 250 ms
    if (iam_->lookup_access_key(k->key.id)->status == KeyStatus::Inactive) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(iam_->lookup_access_key(k->key.id)->status, KeyStatus::Inactive);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
}

// On PostgreSQL a write names its account (the NOTIFY payload): the other node
// drops only that account's cached state, so decisions cached for every other
// account stay valid (SQLite's feed cannot say whose: everything moves there).
TEST_F(IamRaces, AWriteOnOneNodeInvalidatesOnlyItsAccountOnTheOther) {
  if (!on_postgres()) GTEST_SKIP() << "SQLite's change feed does not name the account";
  const std::string other = new_account("other");
  ASSERT_OK(iam_->create_user(other, {"bob", "", ""}));
  (void)iam_->generation();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  (void)iam_->generation();
  const uint64_t before_other = iam_->account_generation(other);
  const uint64_t before_mine = iam_->account_generation(acct_);
  ASSERT_OK(node2_->create_user(acct_, {"carol", "", ""}));
  const auto t0 = std::chrono::steady_clock::now();
  while (iam_->account_generation(acct_) == before_mine &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2)) {
    (void)iam_->generation();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(iam_->account_generation(acct_), before_mine);
  EXPECT_EQ(iam_->account_generation(other), before_other);
}
