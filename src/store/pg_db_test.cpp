// The SQL seam over PostgreSQL (one throwaway server for this binary, a fresh
// schema per test): placeholders, binding and reading as the SQLite code
// expects, SERIALIZABLE transactions and the error kinds callers act on, a
// lost connection made again, the change feed (NOTIFY inside the writing
// transaction, this node's own skipped, Change{} after a reconnect), and the
// store's master-key check and startup errors.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/crypto.hpp"
#include "store/changes.hpp"
#include "store/migrate.hpp"
#include "store/pg_db.hpp"
#include "store/pg_test_util.hpp"
#include "store/store.hpp"
#include "store/test_util.hpp"

using namespace sluice::store;
using sluice::store::testing::TempDir;
using sluice::store::testing::TestPostgres;

namespace {

class Pg : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& pg = TestPostgres::get();
    ASSERT_TRUE(pg.ok()) << pg.error();
    conninfo_ = pg.fresh_schema();
    db_ = PgDb::open(conninfo_);
  }
  DbError::Kind kind_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const DbError& e) {
      return e.kind;
    }
    ADD_FAILURE() << "no DbError";
    return DbError::Kind::Other;
  }
  std::string conninfo_;
  std::unique_ptr<PgDb> db_;
};

std::vector<std::string> polls(ChangeFeed& f, int wait_ms = 1500) {
  std::vector<std::string> out;
  // Notifications travel through the server: give them a moment.
  for (auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
       std::chrono::steady_clock::now() < end;) {
    f.poll([&](const Change& c) { out.push_back(c.account_id.empty() ? "*" : c.account_id); });
    if (!out.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return out;
}

}  // namespace

TEST(PgText, PlaceholdersAreRewrittenOutsideQuotesAndComments) {
  int n = 0;
  EXPECT_EQ(PgDb::rewrite_placeholders("SELECT ? , '?''?', \"a?\" -- x?\n, ? /* ? */ FROM t WHERE a = ?", &n),
            "SELECT $1 , '?''?', \"a?\" -- x?\n, $2 /* ? */ FROM t WHERE a = $3");
  EXPECT_EQ(n, 3);
  EXPECT_EQ(PgDb::rewrite_placeholders("VALUES (?,?,?)", &n), "VALUES ($1,$2,$3)");
  EXPECT_EQ(n, 3);
}

TEST(PgText, TheConninfoInMessagesHasNoPassword) {
  EXPECT_EQ(PgDb::redact("host=db port=5432 dbname=s user=u password=hunter2"), "user=u dbname=s host=db port=5432");
  const std::string uri = PgDb::redact("postgresql://u:hunter2@db:5432/s");
  EXPECT_EQ(uri.find("hunter2"), std::string::npos) << uri;
  EXPECT_NE(uri.find("host=db"), std::string::npos) << uri;
}

// What the node's own control store is, for the rules' egress policy (app/egress_config.cpp).
TEST(PgText, TheEndpointsAConninfoConnectsTo) {
  using E = std::vector<std::pair<std::string, int>>;
  EXPECT_EQ(PgDb::endpoints("host=127.0.0.1 port=5433 dbname=s user=u password=x"), (E{{"127.0.0.1", 5433}}));
  EXPECT_EQ(PgDb::endpoints("host='db.example' dbname=s"), (E{{"db.example", 5432}}));
  EXPECT_EQ(PgDb::endpoints("host=db hostaddr=10.0.0.5 port=6000"), (E{{"10.0.0.5", 6000}}));
  EXPECT_EQ(PgDb::endpoints("postgresql://u:pw@h1:5001,h2:5002/s"), (E{{"h1", 5001}, {"h2", 5002}}));
  EXPECT_EQ(PgDb::endpoints("host=/var/run/postgresql dbname=s"), (E{{"localhost", 5432}}));
  EXPECT_EQ(PgDb::endpoints("dbname=s"), (E{{"localhost", 5432}}));
  EXPECT_TRUE(PgDb::endpoints("host='unterminated").empty());
}

TEST_F(Pg, BindsAndReadsEveryKindAsSqliteDoes) {
  EXPECT_EQ(db_->dialect(), Dialect::Postgres);
  EXPECT_EQ(db_->path().find("password"), std::string::npos);
  db_->exec("CREATE TABLE t(i BIGINT, s TEXT, b BYTEA, n TEXT); CREATE TABLE m(k TEXT PRIMARY KEY, v TEXT)");
  const std::string bytes("a\0b\xff", 4);
  std::optional<std::string> none;
  EXPECT_EQ(db_->run("INSERT INTO t VALUES (?, ?, ?, ?)", int64_t(-5), std::string_view(), Blob{bytes}, none), 1);
  auto q = db_->query("SELECT i, s, b, n FROM t WHERE i = ?", -5);
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), -5);
  EXPECT_FALSE(q.is_null(1));
  EXPECT_EQ(q.text(1), "");
  EXPECT_EQ(q.blob(2), bytes);
  EXPECT_TRUE(q.is_null(3));
  EXPECT_FALSE(q.step());
  // A prepared statement runs again after reset(); changes() counts rows changed, not read.
  auto ins = db_->prepare("INSERT INTO t(i) VALUES (?)");
  ins.bind(1, 7).run();
  ins.reset().bind(1, 8).run();
  EXPECT_EQ(db_->run("UPDATE t SET s = 'x' WHERE i IN (7, 8)"), 2);
  auto c = db_->query("SELECT COUNT(*), EXISTS(SELECT 1 FROM t) FROM t WHERE i IN (7, 8)");
  ASSERT_TRUE(c.step());
  EXPECT_EQ(c.int64(0), 2);
  EXPECT_EQ(c.int64(1), 1);  // a boolean reads as 1 / 0
  EXPECT_EQ(db_->changes(), 2);
  // Text read as a number, as SQLite converts (meta's versions and counters).
  db_->run("INSERT INTO m VALUES ('v', '41')");
  db_->run("UPDATE m SET v = CAST(CAST(v AS BIGINT) + 1 AS TEXT) WHERE k = 'v'");
  auto v = db_->query("SELECT v FROM m");
  ASSERT_TRUE(v.step());
  EXPECT_EQ(v.int64(0), 42);
  EXPECT_EQ(v.text(0), "42");
  // Many distinct statements: the named-statement cache evicts and re-prepares.
  for (int i = 0; i < 300; ++i) db_->query("SELECT " + std::to_string(i) + " + ?", i).step();
  auto again = db_->query("SELECT 1 + ?", 1);
  ASSERT_TRUE(again.step());
  EXPECT_EQ(again.int64(0), 2);
}

TEST_F(Pg, TransactionsCommitOrRollBack) {
  db_->exec("CREATE TABLE t(a BIGINT)");
  {
    Transaction tx(*db_);
    db_->run("INSERT INTO t VALUES (1)");
  }
  {
    Transaction tx(*db_);
    db_->run("INSERT INTO t VALUES (2)");
    tx.commit();
  }
  auto q = db_->query("SELECT a FROM t");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), 2);
  EXPECT_FALSE(q.step());
  // A failed statement spoils the transaction: its commit is an error, not a silent rollback.
  Transaction tx(*db_);
  EXPECT_THROW(db_->exec("SELECT * FROM nope"), DbError);
  EXPECT_THROW(tx.commit(), DbError);
}

TEST_F(Pg, ErrorsSayWhatTheCallerMayDo) {
  db_->exec("CREATE TABLE u(name TEXT PRIMARY KEY, alias TEXT UNIQUE, n BIGINT NOT NULL)");
  db_->run("INSERT INTO u VALUES ('a', 'x', 1)");
  EXPECT_EQ(kind_of([&] { db_->run("INSERT INTO u VALUES ('a', 'y', 1)"); }), DbError::Kind::Unique);
  EXPECT_EQ(kind_of([&] { db_->run("INSERT INTO u VALUES ('b', 'x', 1)"); }), DbError::Kind::Unique);
  EXPECT_EQ(kind_of([&] { db_->run("INSERT INTO u VALUES ('c', 'z', NULL)"); }), DbError::Kind::Other);
  // Two SERIALIZABLE writers that each read what the other writes: one is told to run again.
  auto other = PgDb::open(conninfo_);
  Transaction a(*db_);
  Transaction b(*other);
  db_->query("SELECT COUNT(*) FROM u").step();
  other->query("SELECT COUNT(*) FROM u").step();
  db_->run("INSERT INTO u VALUES ('p', 'p', 1)");
  other->run("INSERT INTO u VALUES ('q', 'q', 1)");
  a.commit();
  EXPECT_EQ(kind_of([&] { b.commit(); }), DbError::Kind::Retry);
}

TEST_F(Pg, ALostConnectionIsUnavailableThenMadeAgain) {
  db_->exec("CREATE TABLE t(a BIGINT)");
  db_->run("INSERT INTO t VALUES (1)");
  auto& pg = TestPostgres::get();
  // Restarted while idle: the next call notices the farewell and reconnects.
  ASSERT_TRUE(pg.restart());
  auto q = db_->query("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), 1);
  // Down: calls fail as Unavailable (not as a bug), quickly.
  ASSERT_TRUE(pg.kill());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(kind_of([&] { db_->query("SELECT 1").step(); }), DbError::Kind::Unavailable);
  EXPECT_EQ(kind_of([&] { Transaction tx(*db_); }), DbError::Kind::Unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  ASSERT_TRUE(pg.restart());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the reconnect pacing
  auto r = db_->query("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(r.step());
  EXPECT_EQ(r.int64(0), 1);
}

TEST_F(Pg, ChangeFeedHearsOtherNodesCommitsByAccount) {
  db_->exec("CREATE TABLE owned(x BIGINT)");
  std::mutex mu_a, mu_b;
  auto b = PgDb::open(conninfo_);  // a second node on the same store
  std::unique_ptr<ChangeFeed> feed_a, feed_b;
  {
    std::lock_guard la(mu_a);
    feed_a = db_->watch("owner", mu_a);
  }
  {
    std::lock_guard lb(mu_b);
    feed_b = b->watch("owner", mu_b);
  }
  EXPECT_TRUE(polls(*feed_b, 200).empty());  // listening from the start: nothing to catch up
  EXPECT_EQ(feed_b->lost_since_ms(), 0);
  {
    std::lock_guard la(mu_a);
    ChangeTx tx(*db_, *feed_a);
    tx.touched("1234");
    db_->run("INSERT INTO owned VALUES (1)");
    tx.commit();
  }
  EXPECT_EQ(polls(*feed_b), std::vector<std::string>{"1234"});
  EXPECT_TRUE(polls(*feed_a, 300).empty());  // its own: the writer's owner already knows
  {
    std::lock_guard la(mu_a);  // rolled back: nobody hears of it
    ChangeTx tx(*db_, *feed_a);
    tx.touched("5678");
    db_->run("INSERT INTO owned VALUES (2)");
  }
  EXPECT_TRUE(polls(*feed_b, 300).empty());
  {
    std::lock_guard lb(mu_b);  // nobody named: anything may have changed
    ChangeTx tx(*b, *feed_b);
    b->run("INSERT INTO owned VALUES (3)");
    tx.commit();
  }
  EXPECT_EQ(polls(*feed_a), std::vector<std::string>{"*"});
  // The listener loses its connection: NOTIFY does not replay, so once it
  // listens again it reports that anything may have changed.
  auto& pg = TestPostgres::get();
  ASSERT_TRUE(pg.restart());
  std::vector<std::string> after;
  for (int i = 0; i < 100 && after.empty(); ++i) after = polls(*feed_b, 100);
  EXPECT_EQ(after, std::vector<std::string>{"*"});
  EXPECT_EQ(feed_b->lost_since_ms(), 0);
}

TEST_F(Pg, TheBackstopReportsEverythingNowAndThen) {
  std::mutex mu;
  db_->set_change_backstop_ms(300);
  std::unique_ptr<ChangeFeed> feed;
  {
    std::lock_guard l(mu);
    feed = db_->watch("owner", mu);
  }
  EXPECT_TRUE(polls(*feed, 100).empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(polls(*feed, 100), std::vector<std::string>{"*"});
}

// The owner could not reload what it heard (the store out of reach just then):
// the feed reports everything again on a later poll, so nothing heard is lost.
// And the connection says since when it has been unable to reach the server.
TEST_F(Pg, AChangeTheOwnerFailedToLoadIsReportedAgain) {
  std::mutex mu_a, mu_b;
  auto b = PgDb::open(conninfo_);
  std::unique_ptr<ChangeFeed> feed_a, feed_b;
  {
    std::lock_guard la(mu_a);
    feed_a = db_->watch("owner", mu_a);
  }
  {
    std::lock_guard lb(mu_b);
    feed_b = b->watch("owner", mu_b);
  }
  {
    std::lock_guard la(mu_a);
    ChangeTx tx(*db_, *feed_a);
    tx.touched("42");
    tx.commit();
  }
  std::vector<std::string> heard;
  for (int i = 0; i < 150 && heard.empty(); ++i) {
    feed_b->poll([&](const Change& c) {
      heard.push_back(c.account_id);
      throw DbError("the store is out of reach", DbError::Kind::Unavailable);  // the owner's reload fails
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(heard, std::vector<std::string>{"42"});
  EXPECT_EQ(polls(*feed_b, 500), std::vector<std::string>{"*"});  // again, as everything
  EXPECT_TRUE(polls(*feed_b, 300).empty());                        // and then no more

  EXPECT_EQ(b->lost_since_ms(), 0);
  auto& pg = TestPostgres::get();
  ASSERT_TRUE(pg.kill());
  EXPECT_THROW(b->query("SELECT 1").step(), DbError);
  EXPECT_NE(b->lost_since_ms(), 0);
  ASSERT_TRUE(pg.restart());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the reconnect pacing
  EXPECT_TRUE(b->query("SELECT 1").step());
  EXPECT_EQ(b->lost_since_ms(), 0);
}

TEST_F(Pg, MigrationsUseThePostgresStepsAndRefuseANewerSchema) {
  const Migration sqlite_steps[] = {{1, "CREATE TABLE a(x INTEGER);"}};
  const Migration pg_steps[] = {{1, "CREATE TABLE a(x BIGINT);"}, {2, "ALTER TABLE a ADD COLUMN y BYTEA;"}};
  const Schema s{"test", "test_schema", sqlite_steps, false, pg_steps};
  EXPECT_EQ(migrate(*db_, s), 2);
  EXPECT_EQ(migrate(*db_, s), 2);
  db_->run("INSERT INTO a(x, y) VALUES (1, ?)", Blob{"z"});
  db_->run("UPDATE meta SET value = '3' WHERE key = 'test_schema'");
  try {
    migrate(*db_, s);
    ADD_FAILURE() << "no refusal";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("test schema version 3, newer than this Sluice understands (2)"),
              std::string::npos)
        << e.what();
  }
  const Schema sqlite_only{"old", "old_schema", sqlite_steps};
  EXPECT_THROW(migrate(*db_, sqlite_only), DbError);
}

TEST_F(Pg, StoreChecksTheMasterKeyEveryNodeShares) {
  TempDir node1, node2;
  StoreOptions o;
  o.read_env = false;
  {
    auto r = Store::open_postgres(conninfo_, node1.path, o);
    ASSERT_TRUE(r.store) << r.error;
    EXPECT_EQ(r.store->key_source(), KeySource::Created);
    EXPECT_EQ(r.store->dialect(), Dialect::Postgres);
    r.store->db().run("INSERT INTO meta(key, value) VALUES ('x', ?)",
                      sluice::common::base64_encode(r.store->box().seal("hello", "x")));
  }
  // Another node without the key: refused, never a new key.
  auto missing = Store::open_postgres(conninfo_, node2.path, o);
  EXPECT_FALSE(missing.store);
  EXPECT_NE(missing.error.find("master key missing"), std::string::npos) << missing.error;
  EXPECT_FALSE(std::filesystem::exists(node2.path + "/master.key"));
  // With a wrong key: refused, saying so, without the password.
  StoreOptions wrong = o;
  wrong.master_key_b64 = sluice::common::base64_encode(std::string(32, 'w'));
  auto bad = Store::open_postgres(conninfo_, node2.path, wrong);
  EXPECT_FALSE(bad.store);
  EXPECT_NE(bad.error.find("wrong master key"), std::string::npos) << bad.error;
  EXPECT_EQ(bad.error.find("password="), std::string::npos) << bad.error;
  // With the same key (copied, or from SLUICE_MASTER_KEY): the secrets open.
  std::filesystem::copy_file(node1.path + "/master.key", node2.path + "/master.key");
  auto r = Store::open_postgres(conninfo_, node2.path, o);
  ASSERT_TRUE(r.store) << r.error;
  auto q = r.store->db().query("SELECT value FROM meta WHERE key = 'x'");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(*r.store->box().open(*sluice::common::base64_decode(q.text(0)), "x"), "hello");
}

TEST(PgStore, AnUnreachableServerIsAClearError) {
  TempDir t;
  StoreOptions o;
  o.read_env = false;
  // Port 1: nothing listens there.
  auto r = Store::open_postgres("host=127.0.0.1 port=1 dbname=x user=u password=hunter2 connect_timeout=2", t.path, o);
  EXPECT_FALSE(r.store);
  EXPECT_NE(r.error.find("cannot connect to PostgreSQL"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("port=1"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("hunter2"), std::string::npos) << r.error;
}
