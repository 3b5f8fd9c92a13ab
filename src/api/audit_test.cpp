// The audit log's table under the store's migration runner: created at its
// newest version, and a database written by a newer Sluice refused.
#include "api/audit.hpp"

#include <gtest/gtest.h>

#include "iam/test_util.hpp"
#include "store/store.hpp"

using namespace sluice;

namespace {
class AuditSchema : public iam::testing::IamFixture {
 protected:
  std::shared_ptr<store::Store> shared_store() {
    return std::shared_ptr<store::Store>(&iam_->store(), [](store::Store*) {});  // the IamService owns it
  }
  std::string version() {
    auto q = iam_->store().db().query("SELECT value FROM meta WHERE key = 'audit_schema'");
    return q.step() ? q.text(0) : "";
  }
};
}  // namespace

TEST_F(AuditSchema, CreatedAtItsNewestVersion) {
  { api::AuditLog log(shared_store()); }
  EXPECT_EQ(version(), "3");
  EXPECT_NO_THROW(iam_->store().db().prepare("SELECT user_agent FROM audit_events"));       // step 2 ran
  EXPECT_NO_THROW(iam_->store().db().prepare("SELECT source_identity FROM audit_events"));  // step 3 ran
}

TEST_F(AuditSchema, RefusesASchemaNewerThanThisBinary) {
  { api::AuditLog log(shared_store()); }
  iam_->store().db().run("UPDATE meta SET value = '4' WHERE key = 'audit_schema'");
  try {
    api::AuditLog log(shared_store());
    ADD_FAILURE() << "a schema newer than this binary was accepted";
  } catch (const store::DbError& e) {
    EXPECT_NE(std::string(e.what()).find("audit schema version 4, newer than this Sluice"), std::string::npos)
        << e.what();
  }
}
