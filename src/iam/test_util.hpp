#pragma once
// Test fixture shared by the iam unit tests (and the MQ and API ones built on
// it): a real store in a temp dir, or with SLUICE_TEST_BACKEND=postgres a
// fresh schema of this binary's throwaway PostgreSQL (store/pg_test_util.hpp).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "iam/authorizer.hpp"
#include "iam/iam_service.hpp"
#include "store/pg_test_util.hpp"
#include "store/store.hpp"

namespace sluice::iam::testing {

inline int64_t g_now = 1'800'000'000;
inline int64_t test_clock() { return g_now; }

class IamFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-iam-XXXXXX";
    dir_ = mkdtemp(tmpl);
    g_now = 1'800'000'000;
    if (store::testing::postgres_backend()) {
      auto& pg = store::testing::TestPostgres::get();
      ASSERT_TRUE(pg.ok()) << pg.error();
      conninfo_ = pg.fresh_schema();
    }
    open();
  }
  void TearDown() override {
    authz_.reset();
    iam_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    authz_.reset();
    iam_.reset();
    auto r = store::Store::open(dir_, store_options());
    ASSERT_TRUE(r.store) << r.error;
    iam_ = std::make_unique<IamService>(std::shared_ptr<store::Store>(std::move(r.store)), limits_, &test_clock);
    authz_ = std::make_unique<Authorizer>(*iam_);
  }
  void reopen() { open(); }
  std::string new_account(const std::string& alias = "acme") {
    auto a = iam_->create_account(alias + "@example.com", alias, "password-123");
    EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
    return a.ok() ? a->id : "";
  }
  bool on_postgres() const { return !conninfo_.empty(); }
  // How this test's store is opened (a second connection to it, as `sluice
  // admin` or another node would: the same options).
  store::StoreOptions store_options() const {
    store::StoreOptions o;
    o.read_env = false;
    o.postgres = conninfo_;
    return o;
  }
  // Another connection to this test's database, without the store around it.
  std::unique_ptr<store::Db> other_connection() const {
    if (on_postgres()) return store::PgDb::open(conninfo_);
    return store::Db::open(dir_ + "/sluice.db");
  }
  std::string dir_;
  std::string conninfo_;  // PostgreSQL: this test's schema; empty: SQLite in dir_
  Limits limits_;
  std::unique_ptr<IamService> iam_;
  std::unique_ptr<Authorizer> authz_;
};

#define EXPECT_CODE(expr, code_)                                                    \
  do {                                                                              \
    const auto& _r = (expr);                                                             \
    ASSERT_FALSE(_r.ok()) << "expected " << code_;                                  \
    EXPECT_EQ(_r.error().code, code_) << _r.error().message;                        \
  } while (0)
#define ASSERT_OK(expr)                                                                        \
  do {                                                                                         \
    const auto& _r = (expr);                                                                        \
    ASSERT_TRUE(_r.ok()) << _r.error().code << ": " << _r.error().message;                     \
  } while (0)

}  // namespace sluice::iam::testing
