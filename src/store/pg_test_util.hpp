#pragma once
// For tests over PostgreSQL: one throwaway server per test binary
// (scripts/pg.sh, a temp dir, a free loopback port), started on first use and
// stopped when the binary exits (and by pg.sh's watchdog should it crash), and
// a fresh schema per test (cheaper than a database: search_path in the
// conninfo puts every table of the test there; the change feed's channels
// carry the schema's name, so tests do not hear each other).
//
// The suites that run on both backends (IAM, MQ, API, console API) are
// registered twice in ctest; the second run has SLUICE_TEST_BACKEND=postgres.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "store/db.hpp"
#include "store/pg_db.hpp"

#ifndef SLUICE_SOURCE_DIR
#error "SLUICE_SOURCE_DIR must be defined for test targets (CMakeLists.txt)"
#endif

namespace sluice::store::testing {

// SLUICE_TEST_BACKEND=postgres: the fixtures open their stores in PostgreSQL.
inline bool postgres_backend() {
  const char* b = std::getenv("SLUICE_TEST_BACKEND");
  return b && std::string(b) == "postgres";
}

class TestPostgres {
 public:
  // The server of this binary, started on the first call. error() says why not.
  static TestPostgres& get() {
    static TestPostgres pg;
    return pg;
  }
  bool ok() const { return !conninfo_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& conninfo() const { return conninfo_; }
  const std::string& dir() const { return dir_; }

  // A new empty schema; the conninfo that works in it.
  std::string fresh_schema() {
    const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++schemas_);
    auto db = PgDb::open(conninfo_);
    db->exec("CREATE SCHEMA " + name);
    return in_schema(name);
  }
  std::string in_schema(const std::string& name) const {
    return conninfo_ + " options='-c search_path=" + name + "'";
  }

  // Fault injection (scripts/pg.sh): the server stopped at once (a crash), or
  // stopped and started again on the same port with its data.
  bool kill() { return sh("kill") == 0; }
  bool restart() { return sh("restart") == 0; }

  ~TestPostgres() {
    if (!dir_.empty()) sh("stop");
  }

 private:
  TestPostgres() {
    char tmpl[] = "/tmp/sluice-pg-XXXXXX";
    if (!mkdtemp(tmpl)) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    const std::string cmd = "PG_WATCH_PID=" + std::to_string(::getpid()) + " " + script() + " start " + dir_ +
                            " 2>" + dir_ + ".err";
    FILE* f = ::popen(cmd.c_str(), "r");
    char buf[1024];
    std::string out;
    while (f && ::fgets(buf, sizeof buf, f)) out += buf;
    const int rc = f ? ::pclose(f) : -1;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    if (rc != 0 || out.empty()) {
      error_ = "scripts/pg.sh start failed (is Debian's postgresql installed? scripts/install-deps.sh): " + read(dir_ + ".err");
      std::filesystem::remove_all(dir_);
      dir_.clear();
    } else {
      conninfo_ = out;
    }
    std::filesystem::remove(dir_ + ".err");
  }
  static std::string script() { return std::string(SLUICE_SOURCE_DIR) + "/scripts/pg.sh"; }
  int sh(const std::string& what) { return std::system((script() + " " + what + " " + dir_ + " >/dev/null 2>&1").c_str()); }
  static std::string read(const std::string& path) {
    std::string s;
    if (FILE* f = ::fopen(path.c_str(), "r")) {
      char buf[512];
      size_t n;
      while ((n = ::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
      ::fclose(f);
    }
    return s;
  }
  std::string dir_, conninfo_, error_;
  std::atomic<int> schemas_{0};
};

}  // namespace sluice::store::testing
