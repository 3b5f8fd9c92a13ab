#pragma once
// The SQLite implementation of the control-store seam (store/db.hpp): one
// connection to a file in WAL mode, foreign keys on, a 5 s busy timeout. Also
// what the broker's own state file (persist/broker_store) is written with.
#include <memory>
#include <string>

#include "store/db.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace sluice::store {

class SqliteStmt final : public StmtImpl {
 public:
  SqliteStmt(sqlite3* db, sqlite3_stmt* st) : db_(db), st_(st) {}
  ~SqliteStmt() override;
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  void bind_int64(int i, int64_t v) override;
  void bind_text(int i, std::string_view v) override;
  void bind_blob(int i, std::string_view v) override;
  void bind_null(int i) override;
  bool step() override;
  void reset() override;
  std::string text(int i) const override;
  std::string blob(int i) const override;
  int64_t int64(int i) const override;
  bool is_null(int i) const override;

 private:
  sqlite3* db_;
  sqlite3_stmt* st_;
};

class SqliteDb final : public Db {
 public:
  // Opens (creating) the file; throws DbError.
  static std::unique_ptr<SqliteDb> open(const std::string& path);
  ~SqliteDb() override;

  Dialect dialect() const override { return Dialect::Sqlite; }
  const std::string& path() const override { return path_; }
  void exec(std::string_view sql) override;
  Stmt prepare(std::string_view sql) override;
  int changes() const override;
  void begin_write() override;  // BEGIN IMMEDIATE: the write lock is taken up front
  void commit() override;
  void rollback() noexcept override;
  // Polls PRAGMA data_version (store/sqlite_changes.cpp).
  std::unique_ptr<ChangeFeed> watch(std::string channel, std::mutex& store_mutex) override;

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

}  // namespace sluice::store
