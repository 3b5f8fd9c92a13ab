#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "store/crypto.hpp"
#include "store/password.hpp"
#include "store/store.hpp"
#include "store/test_util.hpp"

using namespace sluice::store;
using sluice::store::testing::TempDir;

namespace {
StoreOptions no_env() {
  StoreOptions o;
  o.read_env = false;
  return o;
}
}  // namespace

TEST(SecretBox, RoundTripAndTamper) {
  Key256 k{};
  k[0] = 7;
  SecretBox box(k);
  std::string sealed = box.seal("s3cret-value", "LTAIabc");
  EXPECT_EQ(sealed.find("s3cret-value"), std::string::npos);
  auto back = box.open(sealed, "LTAIabc");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, "s3cret-value");
  EXPECT_FALSE(box.open(sealed, "LTAIother"));  // bound to its row
  std::string bad = sealed;
  bad[bad.size() / 2] ^= 1;
  EXPECT_FALSE(box.open(bad, "LTAIabc"));
  EXPECT_FALSE(box.open("short"));
  Key256 k2{};
  SecretBox other(k2);
  EXPECT_FALSE(other.open(sealed, "LTAIabc"));
  // Fresh nonce each time.
  EXPECT_NE(box.seal("x"), box.seal("x"));
  EXPECT_EQ(*box.open(box.seal("")), "");
}

TEST(Crypto, RandomStrings) {
  std::string s = random_string(30, kAlnum);
  EXPECT_EQ(s.size(), 30u);
  for (char c : s) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
  EXPECT_NE(random_string(30, kAlnum), s);
}

TEST(Password, Argon2idVerify) {
  Argon2Params fast{1, 1024, 1};
  std::string h = hash_password("correct horse", fast);
  EXPECT_EQ(h.rfind("$argon2id$", 0), 0u) << h;
  EXPECT_TRUE(verify_password(h, "correct horse"));
  EXPECT_FALSE(verify_password(h, "correct horsE"));
  EXPECT_FALSE(verify_password("garbage", "correct horse"));
  EXPECT_NE(hash_password("correct horse", fast), h);  // salted
  std::string d = hash_password("default params");
  EXPECT_NE(d.find("m=19456"), std::string::npos) << d;
  EXPECT_TRUE(verify_password(d, "default params"));
}

TEST(Store, CreatesKeyFileWithMode0600AndReopens) {
  TempDir t;
  {
    auto r = Store::open(t.path + "/data", no_env());
    ASSERT_TRUE(r.store) << r.error;
    EXPECT_EQ(r.store->key_source(), KeySource::Created);
    r.store->db().run("INSERT INTO meta(key, value) VALUES ('x', ?)", Blob{r.store->box().seal("hello", "x")});
  }
  struct stat st {};
  ASSERT_EQ(stat((t.path + "/data/master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto r = Store::open(t.path + "/data", no_env());
  ASSERT_TRUE(r.store) << r.error;
  EXPECT_EQ(r.store->key_source(), KeySource::File);
  auto q = r.store->db().query("SELECT value FROM meta WHERE key='x'");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(*r.store->box().open(q.blob(0), "x"), "hello");
}

TEST(Store, MissingMasterKeyIsAnErrorNotARegeneration) {
  TempDir t;
  ASSERT_TRUE(Store::open(t.path, no_env()).store);
  std::filesystem::remove(t.path + "/master.key");
  auto r = Store::open(t.path, no_env());
  EXPECT_FALSE(r.store);
  EXPECT_NE(r.error.find("master key missing"), std::string::npos) << r.error;
  EXPECT_FALSE(std::filesystem::exists(t.path + "/master.key"));
}

TEST(Store, WrongMasterKeyIsAnError) {
  TempDir t;
  ASSERT_TRUE(Store::open(t.path, no_env()).store);
  {
    std::ofstream f(t.path + "/master.key", std::ios::trunc);
    f << sluice::common::base64_encode(std::string(32, 'k')) << "\n";
  }
  auto r = Store::open(t.path, no_env());
  EXPECT_FALSE(r.store);
  EXPECT_NE(r.error.find("wrong master key"), std::string::npos) << r.error;
}

TEST(Store, MasterKeyFromEnvironment) {
  TempDir t;
  std::string key = sluice::common::base64_encode(std::string(32, 'e'));
  StoreOptions o = no_env();
  o.master_key_b64 = key;
  {
    auto r = Store::open(t.path, o);
    ASSERT_TRUE(r.store) << r.error;
    EXPECT_EQ(r.store->key_source(), KeySource::Environment);
  }
  EXPECT_FALSE(std::filesystem::exists(t.path + "/master.key"));
  EXPECT_TRUE(Store::open(t.path, o).store);
  o.master_key_b64 = sluice::common::base64_encode(std::string(32, 'f'));
  EXPECT_FALSE(Store::open(t.path, o).store);
  o.master_key_b64 = "not base64";
  auto r = Store::open(t.path, o);
  EXPECT_FALSE(r.store);
  EXPECT_NE(r.error.find("SLUICE_MASTER_KEY"), std::string::npos);
  // Read from the real environment variable too.
  ::setenv("SLUICE_MASTER_KEY", key.c_str(), 1);
  EXPECT_TRUE(Store::open(t.path).store);
  ::unsetenv("SLUICE_MASTER_KEY");
}
