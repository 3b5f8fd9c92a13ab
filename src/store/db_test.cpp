// The SQL seam over SQLite: transactions, binding and reading, and the error
// kinds callers act on (a unique key taken, a transaction to run again).
#include "store/db.hpp"

#include <gtest/gtest.h>

#include "store/sqlite_db.hpp"
#include "store/test_util.hpp"

using namespace sluice::store;
using sluice::store::testing::TempDir;

TEST(Db, TransactionsRollBack) {
  TempDir t;
  auto db = SqliteDb::open(t.path + "/x.db");
  EXPECT_EQ(db->dialect(), Dialect::Sqlite);
  db->exec("CREATE TABLE t(a INTEGER, b TEXT)");
  {
    Transaction tx(*db);
    db->run("INSERT INTO t VALUES (?, ?)", 1, "one");
  }  // no commit: rolled back
  {
    Transaction tx(*db);
    db->run("INSERT INTO t VALUES (?, ?)", 2, std::string("two"));
    tx.commit();
  }
  auto q = db->query("SELECT a, b FROM t");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), 2);
  EXPECT_EQ(q.text(1), "two");
  EXPECT_FALSE(q.step());
  EXPECT_THROW(db->exec("SELECT * FROM nope"), DbError);
  auto j = db->query("PRAGMA journal_mode");
  ASSERT_TRUE(j.step());
  EXPECT_EQ(j.text(0), "wal");
}

TEST(Db, BindsAndReadsEveryKind) {
  TempDir t;
  auto db = SqliteDb::open(t.path + "/x.db");
  db->exec("CREATE TABLE t(i INTEGER, s TEXT, b BLOB, n TEXT)");
  const std::string bytes("a\0b", 3);
  std::optional<std::string> none;
  EXPECT_EQ(db->run("INSERT INTO t VALUES (?, ?, ?, ?)", int64_t(-5), std::string_view(), Blob{bytes}, none), 1);
  auto q = db->query("SELECT i, s, b, n FROM t WHERE i = ?", -5);
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), -5);
  EXPECT_FALSE(q.is_null(1));  // an empty view is '', not NULL
  EXPECT_EQ(q.text(1), "");
  EXPECT_EQ(q.blob(2), bytes);
  EXPECT_TRUE(q.is_null(3));
  // A prepared statement runs again after reset().
  auto ins = db->prepare("INSERT INTO t(i) VALUES (?)");
  ins.bind(1, 7).run();
  ins.reset().bind(1, 8).run();
  auto c = db->query("SELECT COUNT(*) FROM t WHERE i IN (7, 8)");
  ASSERT_TRUE(c.step());
  EXPECT_EQ(c.int64(0), 2);
}

TEST(Db, ErrorsSayWhatTheCallerMayDo) {
  TempDir t;
  auto db = SqliteDb::open(t.path + "/x.db");
  db->exec("CREATE TABLE u(name TEXT PRIMARY KEY, alias TEXT UNIQUE, n INTEGER NOT NULL)");
  db->run("INSERT INTO u VALUES ('a', 'x', 1)");
  auto kind_of = [&](auto&& f) {
    try {
      f();
    } catch (const DbError& e) {
      return e.kind;
    }
    ADD_FAILURE() << "no DbError";
    return DbError::Kind::Other;
  };
  EXPECT_EQ(kind_of([&] { db->run("INSERT INTO u VALUES ('a', 'y', 1)"); }), DbError::Kind::Unique);
  EXPECT_EQ(kind_of([&] { db->run("INSERT INTO u VALUES ('b', 'x', 1)"); }), DbError::Kind::Unique);
  EXPECT_EQ(kind_of([&] { db->run("INSERT INTO u VALUES ('c', 'z', NULL)"); }), DbError::Kind::Other);
  // Another connection holds the write lock: this one is told to run its transaction again.
  auto other = SqliteDb::open(t.path + "/x.db");
  other->exec("PRAGMA busy_timeout = 0");
  Transaction held(*db);
  EXPECT_EQ(kind_of([&] { Transaction tx(*other); }), DbError::Kind::Retry);
}
