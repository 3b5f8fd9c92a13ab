// The one migration runner: steps applied once and in order, each with its
// version; a failing step leaves the previous version; a database written by a
// newer binary refused, whether the version lives in meta or (IAM's, on
// SQLite) in PRAGMA user_version. Each owner's refusal is tested with its own
// schema beside it (iam/schema_test.cpp, mq/mq_test.cpp, api/audit_test.cpp).
#include "store/migrate.hpp"

#include <gtest/gtest.h>

#include "store/sqlite_db.hpp"
#include "store/test_util.hpp"

using namespace sluice::store;
using sluice::store::testing::TempDir;

namespace {

const Migration kSteps[] = {
    {1, "CREATE TABLE a(x INTEGER);"},
    {2, "ALTER TABLE a ADD COLUMN y TEXT NOT NULL DEFAULT '';"},
};
const Schema kInMeta{"test", "test_schema", kSteps};
const Schema kInUserVersion{"legacy", "legacy_schema", kSteps, /*sqlite_user_version=*/true};

std::string meta(Db& db, const std::string& key) {
  auto q = db.query("SELECT value FROM meta WHERE key = ?", key);
  return q.step() ? q.text(0) : "";
}

std::string refusal(Db& db, const Schema& s) {
  try {
    migrate(db, s);
  } catch (const DbError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Migrate, AppliesPendingStepsOnceAndRecordsTheVersion) {
  TempDir t;
  auto db = SqliteDb::open(t.path + "/x.db");
  EXPECT_EQ(latest_version(kInMeta), 2);
  EXPECT_EQ(applied_version(*db, kInMeta), 0);
  EXPECT_EQ(migrate(*db, kInMeta), 2);
  EXPECT_EQ(meta(*db, "test_schema"), "2");  // text, as the first runners wrote it
  EXPECT_EQ(migrate(*db, kInMeta), 2);       // nothing left to do: step 1 would fail if run again
  db->run("INSERT INTO a(x, y) VALUES (1, 'y')");
  // From version 1, only step 2 runs.
  TempDir t2;
  auto old = SqliteDb::open(t2.path + "/x.db");
  migrate(*old, Schema{"test", "test_schema", std::span(kSteps).first(1)});
  EXPECT_EQ(applied_version(*old, kInMeta), 1);
  EXPECT_EQ(migrate(*old, kInMeta), 2);
  old->run("INSERT INTO a(x, y) VALUES (1, 'y')");
}

TEST(Migrate, AFailingStepLeavesThePreviousVersion) {
  TempDir t;
  auto db = SqliteDb::open(t.path + "/x.db");
  const Migration broken[] = {{1, "CREATE TABLE b(x INTEGER);"}, {2, "CREATE TABLE c(x); SELECT * FROM nope;"}};
  const Schema s{"test", "test_schema", broken};
  EXPECT_THROW(migrate(*db, s), DbError);
  EXPECT_EQ(applied_version(*db, s), 1);
  EXPECT_FALSE(db->query("SELECT 1 FROM sqlite_master WHERE name = 'c'").step());  // step 2 rolled back whole
}

TEST(Migrate, OwnersKeepTheirVersionsApart) {
  TempDir t;
  auto db = SqliteDb::open(t.path + "/x.db");
  migrate(*db, Schema{"one", "one_schema", std::span(kSteps).first(1)});
  const Migration other[] = {{1, "CREATE TABLE o(x INTEGER);"}};
  EXPECT_EQ(migrate(*db, Schema{"two", "two_schema", other}), 1);
  EXPECT_EQ(meta(*db, "one_schema"), "1");
  EXPECT_EQ(meta(*db, "two_schema"), "1");
}

TEST(Migrate, RefusesASchemaNewerThanThisBinaryInMeta) {
  TempDir t;
  auto db = SqliteDb::open(t.path + "/x.db");
  migrate(*db, kInMeta);
  db->run("UPDATE meta SET value = '3' WHERE key = 'test_schema'");
  const std::string e = refusal(*db, kInMeta);
  EXPECT_NE(e.find("test schema version 3, newer than this Sluice understands (2)"), std::string::npos) << e;
  db->run("UPDATE meta SET value = 'x' WHERE key = 'test_schema'");
  EXPECT_NE(refusal(*db, kInMeta).find("not a version number"), std::string::npos);
}

TEST(Migrate, RefusesASchemaNewerThanThisBinaryInUserVersion) {
  TempDir t;
  auto db = SqliteDb::open(t.path + "/x.db");
  EXPECT_EQ(migrate(*db, kInUserVersion), 2);
  auto v = db->query("PRAGMA user_version");
  ASSERT_TRUE(v.step());
  EXPECT_EQ(v.int64(0), 2);
  EXPECT_EQ(meta(*db, "legacy_schema"), "");  // not in meta on SQLite
  db->exec("PRAGMA user_version = 999");
  const std::string e = refusal(*db, kInUserVersion);
  EXPECT_NE(e.find("legacy schema version 999, newer"), std::string::npos) << e;
}
