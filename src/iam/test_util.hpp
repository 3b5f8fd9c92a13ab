#pragma once
// Test fixture shared by the iam unit tests: a real store in a temp dir.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "iam/authorizer.hpp"
#include "iam/iam_service.hpp"
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
    store::StoreOptions o;
    o.read_env = false;
    auto r = store::Store::open(dir_, o);
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
  std::string dir_;
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
