#pragma once
// For tests of code over real SQLite files: a fresh directory under /tmp,
// removed with everything in it at the end of the test.
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace sluice::store::testing {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/sluice-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace sluice::store::testing
