#pragma once
// The control store's SQL seam: what IAM, MQ and the audit log need from a
// database, with SQLite (store/sqlite_db.hpp) as today's only implementation
// and PostgreSQL (store/pg_db.hpp) for several nodes sharing one store. docs/control-store.md lists what a new
// backend must provide and which statements are still SQLite's own.
//
// The calls read the same on every backend:
//   db.query("SELECT name FROM users WHERE account_id = ?", id)  // ? placeholders, 1-based
//   db.run("DELETE ...", args...)                                  // rows changed
//   store::Transaction tx(db); ...; tx.commit();                   // a write transaction
// Errors throw store::DbError; the layers above catch it at their API boundary
// and turn it into an error result. DbError::kind tells the failures a caller
// may act on: a unique key taken by someone else, a transaction the backend
// asks to run again (SQLite: busy past the timeout; PostgreSQL: serialization
// failure or deadlock), and a database out of reach (PostgreSQL: connection
// lost or refused; the API answers ServiceUnavailable, a CONNECT 0x88).
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice::store {

class ChangeFeed;

enum class Dialect { Sqlite, Postgres };

struct DbError : std::runtime_error {
  enum class Kind {
    Other,
    Unique,       // a UNIQUE or PRIMARY KEY constraint refused the row
    Retry,        // the transaction lost a race: roll back and run it again
    Unavailable,  // the database cannot be reached (PostgreSQL down, connection lost): try later
  };
  explicit DbError(const std::string& what, Kind k = Kind::Other) : std::runtime_error(what), kind(k) {}
  Kind kind;
};

// Marks a value to be bound as a BLOB (PostgreSQL: bytea) rather than TEXT.
struct Blob {
  std::string_view bytes;
};

// One prepared statement of a backend. Parameters are 1-based, columns 0-based.
class StmtImpl {
 public:
  virtual ~StmtImpl() = default;
  virtual void bind_int64(int i, int64_t v) = 0;
  virtual void bind_text(int i, std::string_view v) = 0;
  virtual void bind_blob(int i, std::string_view v) = 0;
  virtual void bind_null(int i) = 0;
  virtual bool step() = 0;   // true while a row is available; throws DbError
  virtual void reset() = 0;  // ready to bind and run again; bindings cleared
  virtual std::string text(int i) const = 0;
  virtual std::string blob(int i) const = 0;
  virtual int64_t int64(int i) const = 0;
  virtual bool is_null(int i) const = 0;
};

// A prepared statement, whatever the backend: binding, stepping, reading.
class Stmt {
 public:
  explicit Stmt(std::unique_ptr<StmtImpl> impl) : impl_(std::move(impl)) {}
  Stmt(Stmt&&) noexcept = default;
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;

  // Parameters are 1-based.
  Stmt& bind(int i, int64_t v) { return impl_->bind_int64(i, v), *this; }
  Stmt& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
  Stmt& bind(int i, uint64_t v) { return bind(i, static_cast<int64_t>(v)); }
  Stmt& bind(int i, bool v) { return bind(i, static_cast<int64_t>(v ? 1 : 0)); }
  Stmt& bind(int i, std::string_view v) { return impl_->bind_text(i, v), *this; }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, Blob v) { return impl_->bind_blob(i, v.bytes), *this; }
  Stmt& bind(int i, std::nullptr_t) { return impl_->bind_null(i), *this; }
  Stmt& bind(int i, const std::optional<std::string>& v) {
    return v ? bind(i, std::string_view(*v)) : bind(i, nullptr);
  }
  Stmt& bind(int i, const std::optional<int64_t>& v) { return v ? bind(i, *v) : bind(i, nullptr); }

  // true while a row is available; false when done. Throws on error.
  bool step() { return impl_->step(); }
  // Runs a statement that returns no rows.
  void run() { while (step()) {} }
  // Makes a prepared statement ready to bind and run again (kept for reuse on hot paths).
  Stmt& reset() { return impl_->reset(), *this; }

  // Columns are 0-based.
  std::string text(int i) const { return impl_->text(i); }
  std::string blob(int i) const { return impl_->blob(i); }
  int64_t int64(int i) const { return impl_->int64(i); }
  bool is_null(int i) const { return impl_->is_null(i); }

 private:
  std::unique_ptr<StmtImpl> impl_;
};

// One connection to the control store. Not for concurrent use: callers
// serialize on the store's mutex (store::Store::mutex()).
class Db {
 public:
  // A SQLite file (SqliteDb::open): the embedded default, and the tests' way in.
  static std::unique_ptr<Db> open(const std::string& path);
  virtual ~Db() = default;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  virtual Dialect dialect() const = 0;
  // Where the data lives, for messages: a file path, or a server without its password.
  virtual const std::string& path() const = 0;

  virtual void exec(std::string_view sql) = 0;  // one or more statements, no parameters
  virtual Stmt prepare(std::string_view sql) = 0;
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
  virtual int changes() const = 0;  // rows changed by the last statement

  // A write transaction (store::Transaction): serialized against other writers
  // (SQLite: BEGIN IMMEDIATE) or checked at commit (PostgreSQL: SERIALIZABLE,
  // which may throw DbError::Kind::Retry).
  virtual void begin_write() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;

  // Change notifications on `channel` (store/changes.hpp) for one owner of
  // cached state. `store_mutex` is the mutex that serializes this connection.
  virtual std::unique_ptr<ChangeFeed> watch(std::string channel, std::mutex& store_mutex) = 0;
  // Since when (steady ms, ChangeFeed::steady_ms()) this connection has been
  // unable to reach its server; 0 while it can (SQLite: always 0). Any thread.
  virtual int64_t lost_since_ms() const { return 0; }

 protected:
  Db() = default;
};

// BEGIN on construction; ROLLBACK on destruction unless commit() ran.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) { db_.begin_write(); }
  ~Transaction() {
    if (!done_) db_.rollback();
  }
  void commit() {
    db_.commit();
    done_ = true;
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace sluice::store
