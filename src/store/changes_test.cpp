// The change feed over SQLite: another connection's commit is reported once;
// this connection's own commits are not; with a commit counter, only commits
// that move it count, and the owner's own moves (through ChangeTx) are not
// taken for someone else's; a busy store is tried again later.
#include "store/changes.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "store/migrate.hpp"
#include "store/sqlite_db.hpp"
#include "store/test_util.hpp"

using namespace sluice::store;
using sluice::store::testing::TempDir;

namespace {

struct Files {
  TempDir dir;
  std::unique_ptr<SqliteDb> mine, other;  // two connections to one file, as server and `sluice admin`
  std::mutex mu;                          // the store mutex of `mine`
  Files() {
    mine = SqliteDb::open(dir.path + "/x.db");
    ensure_meta(*mine);
    mine->exec("CREATE TABLE owned(x INTEGER); CREATE TABLE elsewhere(x INTEGER);");
    other = SqliteDb::open(dir.path + "/x.db");
  }
  // Like IAM's meta.iam_version: triggers count commits to the owner's table.
  void count_commits(const std::string& channel) {
    mine->run("INSERT INTO meta(key, value) VALUES (?, 0)", channel + "_version");
    mine->exec("CREATE TRIGGER owned_count AFTER INSERT ON owned BEGIN UPDATE meta SET value = value + 1 WHERE key = '" +
               channel + "_version'; END;");
  }
  std::unique_ptr<ChangeFeed> watch(const std::string& channel) {
    std::lock_guard lk(mu);
    return mine->watch(channel, mu);
  }
};

int polls(ChangeFeed& f) {
  int n = 0;
  f.poll([&](const Change& c) {
    EXPECT_EQ(c.account_id, "");  // SQLite cannot say whose state changed
    ++n;
  });
  return n;
}

}  // namespace

TEST(SqliteChanges, ReportsAnotherConnectionsCommitOnce) {
  Files f;
  auto feed = f.watch("any");  // no counter: every commit by someone else counts
  EXPECT_EQ(polls(*feed), 0);
  f.other->run("INSERT INTO elsewhere VALUES (1)");
  EXPECT_EQ(polls(*feed), 1);
  EXPECT_EQ(polls(*feed), 0);
  f.mine->run("INSERT INTO elsewhere VALUES (2)");  // this connection's own: its owner knows
  EXPECT_EQ(polls(*feed), 0);
}

TEST(SqliteChanges, WithACounterOnlyTheOwnersTablesCount) {
  Files f;
  f.count_commits("owner");
  auto feed = f.watch("owner");
  f.other->run("INSERT INTO elsewhere VALUES (1)");
  EXPECT_EQ(polls(*feed), 0);  // someone else's commit, not to the owner's tables
  f.other->run("INSERT INTO owned VALUES (1)");
  EXPECT_EQ(polls(*feed), 1);
  // The owner's own commit moves the counter too: ChangeTx keeps it from
  // looking like someone else's when another connection next commits.
  {
    std::lock_guard lk(f.mu);
    ChangeTx tx(*f.mine, *feed);
    f.mine->run("INSERT INTO owned VALUES (2)");
    tx.commit();
  }
  f.other->run("INSERT INTO elsewhere VALUES (2)");
  EXPECT_EQ(polls(*feed), 0);
  // Without ChangeTx the same own write is taken for an external change (what it guards against).
  f.mine->run("INSERT INTO owned VALUES (3)");
  f.other->run("INSERT INTO elsewhere VALUES (3)");
  EXPECT_EQ(polls(*feed), 1);
}

TEST(SqliteChanges, AnOwnCommitDoesNotHideAnUnseenChange) {
  Files f;
  f.count_commits("owner");
  auto feed = f.watch("owner");
  f.other->run("INSERT INTO owned VALUES (1)");  // not polled yet
  {
    std::lock_guard lk(f.mu);
    ChangeTx tx(*f.mine, *feed);
    f.mine->run("INSERT INTO owned VALUES (2)");
    tx.commit();
  }
  EXPECT_EQ(polls(*feed), 1);
}

TEST(SqliteChanges, ABusyStoreIsTriedAgainLater) {
  Files f;
  auto feed = f.watch("any");
  f.other->run("INSERT INTO elsewhere VALUES (1)");
  {
    std::lock_guard lk(f.mu);  // a writer of this process holds the store
    int n = 0;
    std::thread([&] { n = polls(*feed); }).join();
    EXPECT_EQ(n, 0);  // the poll did not wait
  }
  EXPECT_EQ(polls(*feed), 1);
}

TEST(SqliteChanges, PollsAtMostOncePerInterval) {
  Files f;
  auto feed = f.watch("any");
  EXPECT_FALSE(feed->due());  // just made
  int due = 0;
  for (auto end = ChangeFeed::steady_ms() + 450; ChangeFeed::steady_ms() < end;) {
    due += feed->due() ? 1 : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(due, 1);
  EXPECT_LE(due, 3);  // 200 ms apart at least
}
