// The identity schema under the store's migration runner: a fresh store gets
// every step; a database written by a newer Sluice is refused (the service
// does not start, open_identity says StoreUnavailable); meta.iam_version
// counts commits to identity tables only (what the change feed narrows to).
#include "iam/schema.hpp"

#include <gtest/gtest.h>

#include "iam/identity.hpp"
#include "iam/test_util.hpp"
#include "store/sqlite_db.hpp"

using namespace sluice;
using sluice::iam::testing::IamFixture;

namespace {
class IamSchema : public IamFixture {
 protected:
  store::StoreOptions no_env() { return store_options(); }
  int64_t meta_int(const std::string& key) {
    auto q = iam_->store().db().query("SELECT value FROM meta WHERE key = ?", key);
    return q.step() ? q.int64(0) : -1;
  }
};
}  // namespace

TEST_F(IamSchema, AFreshStoreHasEveryStep) {
  auto& db = iam_->store().db();
  EXPECT_EQ(store::applied_version(db, iam::schema()), store::latest_version(iam::schema()));
  if (on_postgres()) {  // in meta, like every other owner's
    EXPECT_EQ(meta_int("iam_schema"), store::latest_version(iam::schema(), store::Dialect::Postgres));
    EXPECT_EQ(store::latest_version(iam::schema(), store::Dialect::Postgres), store::latest_version(iam::schema()));
    return;
  }
  auto v = db.query("PRAGMA user_version");  // where IAM's version has always been on SQLite
  ASSERT_TRUE(v.step());
  EXPECT_EQ(v.int64(0), store::latest_version(iam::schema()));
}

TEST_F(IamSchema, RefusesASchemaNewerThanThisBinary) {
  iam_.reset();
  authz_.reset();
  if (on_postgres())
    other_connection()->exec("UPDATE meta SET value = '999' WHERE key = 'iam_schema'");
  else
    store::SqliteDb::open(dir_ + "/sluice.db")->exec("PRAGMA user_version = 999");
  auto r = store::Store::open(dir_, no_env());
  ASSERT_TRUE(r.store) << r.error;  // the store itself opens; the identity service refuses
  std::shared_ptr<store::Store> s(std::move(r.store));
  try {
    iam::IamService svc(s);
    ADD_FAILURE() << "a schema newer than this binary was accepted";
  } catch (const store::DbError& e) {
    EXPECT_NE(std::string(e.what()).find("iam schema version 999, newer than this Sluice"), std::string::npos)
        << e.what();
  }
  auto id = iam::open_identity(dir_, {}, no_env());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code, "StoreUnavailable");
  EXPECT_NE(id.error().message.find("newer"), std::string::npos) << id.error().message;
}

TEST_F(IamSchema, IamVersionCountsIdentityWritesOnly) {
  if (on_postgres()) GTEST_SKIP() << "SQLite's change feed only: PostgreSQL notifies inside the transaction";
  auto& db = iam_->store().db();
  int64_t v0 = meta_int("iam_version");
  ASSERT_GE(v0, 0);
  db.run("INSERT INTO accounts VALUES ('1000000000000001', 'l', 'a', 'h', 0)");
  EXPECT_EQ(meta_int("iam_version"), v0 + 1);
  db.run("UPDATE accounts SET alias = 'b' WHERE id = '1000000000000001'");
  db.run("DELETE FROM accounts WHERE id = '1000000000000001'");
  EXPECT_EQ(meta_int("iam_version"), v0 + 3);
  db.run("INSERT INTO meta(key, value) VALUES ('other', 1)");
  EXPECT_EQ(meta_int("iam_version"), v0 + 3);
}
