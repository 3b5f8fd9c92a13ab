// GetAccessKeyLastUsed's bookkeeping (iam_key_usage.cpp): a use is noted in
// memory and answered at once; the store is written in one batch at most once
// a flush interval, not per request.
#include "iam/test_util.hpp"

namespace sluice::iam {
namespace {

using namespace sluice::iam::testing;

class KeyUsageTest : public IamFixture {
 protected:
  int64_t stored_rows() {
    std::lock_guard lk(iam_->store().mutex());
    auto q = iam_->store().db().query("SELECT COUNT(*) FROM access_key_usage");
    q.step();
    return q.int64(0);
  }
};

TEST_F(KeyUsageTest, NotedInMemoryWrittenInBatches) {
  const std::string acct = new_account();
  ASSERT_OK(iam_->create_user(acct, UserInput{"u", "", ""}));
  auto k = iam_->create_access_key(acct, std::string("u"));
  ASSERT_OK(k);
  EXPECT_FALSE(*iam_->access_key_last_used(acct, std::string("u"), k->key.id));  // never used
  iam_->note_key_used(k->key.id);
  for (int i = 0; i < 100; ++i) iam_->note_key_used(k->key.id);
  EXPECT_EQ(stored_rows(), 0) << "no store write per use";
  EXPECT_EQ(*iam_->access_key_last_used(acct, std::string("u"), k->key.id), g_now);  // answered from memory
  g_now += IamService::kKeyUsageFlushSeconds;
  iam_->note_key_used(k->key.id);  // the first use after the interval writes the batch
  EXPECT_EQ(stored_rows(), 1);
  EXPECT_EQ(*iam_->access_key_last_used(acct, std::string("u"), k->key.id), g_now);
  // Only the owner's keys answer.
  EXPECT_CODE(iam_->access_key_last_used(acct, std::nullopt, k->key.id), "EntityNotExist.User.AccessKey");
}

}  // namespace
}  // namespace sluice::iam
