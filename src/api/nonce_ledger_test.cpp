// The shared nonce ledger's group commit (PostgreSQL only): one statement
// records a batch and says which rows were new; requests from several threads
// on two nodes spend each nonce exactly once, in fewer round trips than nonces.
#include "api/nonce_ledger.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "common/crypto.hpp"
#include "iam/test_util.hpp"
#include "store/db.hpp"

using namespace sluice;
using sluice::api::NonceLedger;

namespace {

class NonceLedgerTest : public iam::testing::IamFixture {
 protected:
  void SetUp() override {
    IamFixture::SetUp();
    if (!on_postgres()) GTEST_SKIP() << "the shared nonce ledger is for PostgreSQL stores";
  }
  static std::string hash(const std::string& key, const std::string& nonce) {
    return common::sha256_hex(key + "\n" + nonce);
  }
};

}  // namespace

TEST_F(NonceLedgerTest, OneStatementSaysWhichRowsAreNew) {
  const int64_t now = 1'800'000'000;
  NonceLedger a(iam_->store()), b(iam_->store());  // two nodes
  ASSERT_TRUE(a.first_use("LTAIk", "n1", now, 600));
  // n1 spent on node a; n2 twice in one batch: new for its first request only.
  auto fresh = b.record({{hash("LTAIk", "n1"), now + 600},
                         {hash("LTAIk", "n2"), now + 600},
                         {hash("LTAIk", "n2"), now + 600},
                         {hash("LTAIk", "n3"), now + 600}});
  EXPECT_EQ(fresh, (std::vector<bool>{false, true, false, true}));
  EXPECT_FALSE(a.first_use("LTAIk", "n2", now, 600));
  EXPECT_FALSE(a.first_use("LTAIk", "n3", now, 600));
  EXPECT_TRUE(a.first_use("LTAIother", "n3", now, 600));  // nonces are per access key
}

TEST_F(NonceLedgerTest, ConcurrentRequestsOnTwoNodesSpendEachNonceOnce) {
  const int64_t now = 1'800'000'000;
  constexpr int kNonces = 300, kThreadsPerNode = 4;
  NonceLedger a(iam_->store()), b(iam_->store());
  std::vector<std::atomic<int>> wins(kNonces);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerNode; ++t)
    threads.emplace_back([&, t] {
      NonceLedger& node = t % 2 ? b : a;
      for (int i = 0; i < kNonces; ++i) {
        const int n = (i + t * 37) % kNonces;  // the threads meet on each nonce at different times
        if (node.first_use("LTAIk", "nonce-" + std::to_string(n), now, 600)) wins[n].fetch_add(1);
      }
    });
  for (auto& t : threads) t.join();
  for (int n = 0; n < kNonces; ++n) EXPECT_EQ(wins[n].load(), 1) << "nonce-" << n;
  const auto sa = a.stats(), sb = b.stats();
  EXPECT_EQ(sa.nonces + sb.nonces, uint64_t{2 * kThreadsPerNode * kNonces});
  // Requests that arrived while a round trip was in flight went in the next one together.
  EXPECT_LT(sa.statements, sa.nonces);
  EXPECT_LT(sb.statements, sb.nonces);
  std::printf("nonce ledger: %llu + %llu nonces in %llu + %llu statements\n",
              static_cast<unsigned long long>(sa.nonces), static_cast<unsigned long long>(sb.nonces),
              static_cast<unsigned long long>(sa.statements), static_cast<unsigned long long>(sb.statements));
}

// submit() answers through a callback, on the ledger's thread; a stopped
// ledger answers what still waits, and every later request, "unavailable"
// (the caller's 503), so that no request is left unanswered at shutdown.
TEST_F(NonceLedgerTest, CallbacksAnswerAndAStoppedLedgerSaysUnavailable) {
  const int64_t now = 1'800'000'000;
  NonceLedger a(iam_->store());
  std::mutex m;
  std::condition_variable cv;
  int answered = 0;
  std::vector<bool> fresh(3);
  for (int i = 0; i < 3; ++i)
    a.submit("LTAIk", "same", now, 600, [&, i](bool f, std::exception_ptr e) {
      EXPECT_FALSE(e);
      std::lock_guard lk(m);
      fresh[i] = f;
      ++answered;
      cv.notify_one();
    });
  {
    std::unique_lock lk(m);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(10), [&] { return answered == 3; }));
  }
  EXPECT_EQ(std::count(fresh.begin(), fresh.end(), true), 1);  // one nonce, three requests: one wins
  a.stop();
  bool called = false;
  a.submit("LTAIk", "after-stop", now, 600, [&](bool f, std::exception_ptr e) {
    called = true;
    EXPECT_FALSE(f);
    ASSERT_TRUE(e);
    try {
      std::rethrow_exception(e);
    } catch (const store::DbError& d) {
      EXPECT_EQ(d.kind, store::DbError::Kind::Unavailable);
    }
  });
  EXPECT_TRUE(called);  // at once, on the caller's thread
}
