#pragma once
// A thin SQLite wrapper: one connection, prepared statements with variadic
// binding, RAII transactions. Errors throw store::DbError; the layers above
// (iam) catch it at their API boundary and turn it into an error result.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace sluice::store {

struct DbError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Marks a value to be bound as a BLOB rather than TEXT.
struct Blob {
  std::string_view bytes;
};

class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* st) : db_(db), st_(st) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), st_(o.st_) { o.st_ = nullptr; }
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  ~Stmt();

  // Parameters are 1-based, as in SQLite.
  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
  Stmt& bind(int i, uint64_t v) { return bind(i, static_cast<int64_t>(v)); }
  Stmt& bind(int i, bool v) { return bind(i, static_cast<int64_t>(v ? 1 : 0)); }
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, Blob v);
  Stmt& bind(int i, std::nullptr_t);
  Stmt& bind(int i, const std::optional<std::string>& v) {
    return v ? bind(i, std::string_view(*v)) : bind(i, nullptr);
  }
  Stmt& bind(int i, const std::optional<int64_t>& v) { return v ? bind(i, *v) : bind(i, nullptr); }

  // true while a row is available; false when done. Throws on error.
  bool step();
  // Runs a statement that returns no rows.
  void run() { while (step()) {} }
  // Makes a prepared statement ready to bind and run again (kept for reuse on hot paths).
  Stmt& reset();

  // Columns are 0-based, as in SQLite.
  std::string text(int i) const;
  std::string blob(int i) const;
  int64_t int64(int i) const;
  bool is_null(int i) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* st_;
};

class Db {
 public:
  // Opens (creating) the file in WAL mode with foreign keys on and a busy timeout.
  static std::unique_ptr<Db> open(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(std::string_view sql);  // one or more statements, no parameters
  Stmt prepare(std::string_view sql);
  template <class... A>
  Stmt query(std::string_view sql, const A&... args) {
    Stmt s = prepare(sql);
    int i = 0;
    (s.bind(++i, args), ...);
    return s;
  }
  // Runs a statement with parameters; returns the number of rows changed.
  template <class... A>
  int run(std::string_view sql, const A&... args) {
    query(sql, args...).run();
    return changes();
  }
  int changes() const;
  int64_t last_insert_rowid() const;
  const std::string& path() const { return path_; }

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() ran.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  void commit();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace sluice::store
