// The data directory and the databases are private to Sluice's user (issue #14, item 13).
#include "store/private_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store/db.hpp"

using namespace sluice::store;

namespace {
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/sluice-private-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};
int mode_of(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? int(st.st_mode & 07777) : -1;
}
}  // namespace

TEST(PrivateFiles, NewDataDirIs0700WhateverTheUmask) {
  TempDir t;
  const mode_t old = ::umask(0);
  auto r = prepare_data_dir(t.path + "/a/data");
  ::umask(old);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.created);
  EXPECT_EQ(mode_of(t.path + "/a/data"), 0700);
}

TEST(PrivateFiles, ExistingDataDirIsTightenedAndSaysFromWhat) {
  TempDir t;
  const std::string d = t.path + "/data";
  ::mkdir(d.c_str(), 0755);
  ::chmod(d.c_str(), 0755);
  auto r = prepare_data_dir(d);
  EXPECT_FALSE(r.created);
  EXPECT_EQ(r.old_mode, 0755);
  EXPECT_EQ(r.new_mode, 0700);
  EXPECT_EQ(mode_of(d), 0700);
  auto again = prepare_data_dir(d);
  EXPECT_EQ(again.old_mode, -1) << "nothing to do the second time";
}

TEST(PrivateFiles, AFileInThePlaceOfTheDirIsAnError) {
  TempDir t;
  std::ofstream(t.path + "/file") << "x";
  EXPECT_FALSE(prepare_data_dir(t.path + "/file").error.empty());
}

TEST(PrivateFiles, DatabaseAndItsWalAndShmAre0600EvenUnderAnOpenUmask) {
  TempDir t;
  const std::string db = t.path + "/x.db";
  const mode_t old = ::umask(0);
  {
    auto d = Db::open(db);
    d->exec("CREATE TABLE t(v); INSERT INTO t VALUES (1);");
    for (const char* f : {"", "-wal", "-shm"}) EXPECT_EQ(mode_of(db + f), 0600) << f;
  }
  ::umask(old);
}

TEST(PrivateFiles, FilesLeftOpenByAnOlderVersionAreTightened) {
  TempDir t;
  const std::string db = t.path + "/x.db";
  for (const char* f : {"", "-wal", "-shm"}) {
    std::ofstream(db + f) << "";
    ::chmod((db + f).c_str(), 0644);
  }
  const std::string said = make_database_private(db);
  for (const char* f : {"", "-wal", "-shm"}) EXPECT_EQ(mode_of(db + f), 0600) << f;
  EXPECT_NE(said.find("x.db-wal (was 0644)"), std::string::npos) << said;
  EXPECT_EQ(make_database_private(db), "") << "nothing to say the second time";
  EXPECT_EQ(make_database_private(":memory:"), "");
}
