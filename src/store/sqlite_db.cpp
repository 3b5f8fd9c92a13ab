#include "store/sqlite_db.hpp"

#include <sqlite3.h>

#include "common/log.hpp"
#include "store/private_files.hpp"

namespace sluice::store {

namespace {
// The two failures a caller may act on get their own kind (store/db.hpp).
DbError::Kind kind_of(sqlite3* db) {
  if (!db) return DbError::Kind::Other;
  const int ext = sqlite3_extended_errcode(db);
  if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) return DbError::Kind::Unique;
  const int rc = ext & 0xff;
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return DbError::Kind::Retry;
  return DbError::Kind::Other;
}

[[noreturn]] void fail(sqlite3* db, std::string_view what) {
  throw DbError(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"), kind_of(db));
}
}  // namespace

SqliteStmt::~SqliteStmt() {
  if (st_) sqlite3_finalize(st_);
}

void SqliteStmt::bind_int64(int i, int64_t v) {
  if (sqlite3_bind_int64(st_, i, v) != SQLITE_OK) fail(db_, "bind");
}
void SqliteStmt::bind_text(int i, std::string_view v) {
  // An empty view may have a null data(): SQLite would bind NULL, not ''.
  if (sqlite3_bind_text64(st_, i, v.data() ? v.data() : "", v.size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK)
    fail(db_, "bind");
}
void SqliteStmt::bind_blob(int i, std::string_view v) {
  if (sqlite3_bind_blob64(st_, i, v.data() ? v.data() : "", v.size(), SQLITE_TRANSIENT) != SQLITE_OK)
    fail(db_, "bind");
}
void SqliteStmt::bind_null(int i) {
  if (sqlite3_bind_null(st_, i) != SQLITE_OK) fail(db_, "bind");
}

bool SqliteStmt::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, std::string("step (") + sqlite3_sql(st_) + ")");
}

void SqliteStmt::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

std::string SqliteStmt::text(int i) const {
  auto p = sqlite3_column_text(st_, i);
  int n = sqlite3_column_bytes(st_, i);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}
std::string SqliteStmt::blob(int i) const {
  auto p = sqlite3_column_blob(st_, i);
  int n = sqlite3_column_bytes(st_, i);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}
int64_t SqliteStmt::int64(int i) const { return sqlite3_column_int64(st_, i); }
bool SqliteStmt::is_null(int i) const { return sqlite3_column_type(st_, i) == SQLITE_NULL; }

std::unique_ptr<SqliteDb> SqliteDb::open(const std::string& path) {
  // Created 0600 before SQLite sees it: its -wal and -shm inherit the mode.
  if (std::string t = make_database_private(path); !t.empty())
    log::info("tightened to mode 0600 (it holds secrets or message payloads): {}", t);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = "cannot open database " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    throw DbError(msg);
  }
  std::unique_ptr<SqliteDb> out(new SqliteDb(db, path));
  sqlite3_busy_timeout(db, 5000);
  out->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  return out;
}

std::unique_ptr<Db> Db::open(const std::string& path) { return SqliteDb::open(path); }

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

void SqliteDb::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw DbError("exec: " + msg, kind_of(db_));
  }
}

Stmt SqliteDb::prepare(std::string_view sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &st, nullptr) != SQLITE_OK)
    fail(db_, "prepare (" + std::string(sql) + ")");
  return Stmt(std::make_unique<SqliteStmt>(db_, st));
}

int SqliteDb::changes() const { return sqlite3_changes(db_); }

void SqliteDb::begin_write() { exec("BEGIN IMMEDIATE"); }
void SqliteDb::commit() { exec("COMMIT"); }
void SqliteDb::rollback() noexcept {
  try {
    exec("ROLLBACK");
  } catch (...) {
    // Already rolled back by SQLite (e.g. after SQLITE_FULL): nothing to undo.
  }
}

}  // namespace sluice::store
