#pragma once
// The PostgreSQL implementation of the control-store seam (store/db.hpp), for
// several Sluice nodes sharing one store (docs/control-store.md). One libpq
// connection, used under the store mutex like SQLite's:
//   - the code's `?` placeholders are rewritten to $1..$n (outside quotes and
//     comments) and each statement text is prepared once, by name, on the
//     connection (an LRU of named statements);
//   - text and integers are sent as text parameters, blobs as binary bytea;
//     results come back as text (int64() parses it, as SQLite converts);
//   - write transactions are SERIALIZABLE (SQLite's single writer gave that
//     for free): a lost race throws DbError::Kind::Retry, a unique key taken
//     Kind::Unique, a lost or refused connection Kind::Unavailable;
//   - a lost connection is made again on a later call (at most once a second),
//     so the node carries on when PostgreSQL is back, without a restart.
// watch() starts a PgChangeFeed (store/pg_changes.cpp): LISTEN/NOTIFY.
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/db.hpp"

struct pg_conn;
struct pg_result;

namespace sluice::store {

class PgDb;

class PgStmt final : public StmtImpl {
 public:
  PgStmt(PgDb& db, std::string sql, int nparams);
  ~PgStmt() override;
  PgStmt(const PgStmt&) = delete;
  PgStmt& operator=(const PgStmt&) = delete;

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
  void set(int i, std::string_view v, bool binary);
  PgDb& db_;
  const std::string sql_;  // as the code wrote it (the cache key); rewritten by PgDb
  std::vector<std::string> values_;
  std::vector<char> null_, binary_;
  pg_result* res_ = nullptr;
  int row_ = -1;  // -1: not run yet
};

class PgDb final : public Db {
 public:
  // Connects; throws DbError (Kind::Unavailable when the server cannot be
  // reached, with libpq's reason and the conninfo without its password).
  static std::unique_ptr<PgDb> open(const std::string& conninfo);
  ~PgDb() override;

  Dialect dialect() const override { return Dialect::Postgres; }
  const std::string& path() const override { return redacted_; }  // the conninfo without its password
  void exec(std::string_view sql) override;                        // simple query protocol: several statements
  Stmt prepare(std::string_view sql) override;
  int changes() const override { return changes_; }
  void begin_write() override;  // BEGIN ISOLATION LEVEL SERIALIZABLE
  void commit() override;
  void rollback() noexcept override;
  // LISTEN/NOTIFY on "sluice_<channel>" (store/pg_changes.cpp).
  std::unique_ptr<ChangeFeed> watch(std::string channel, std::mutex& store_mutex) override;

  const std::string& conninfo() const { return conninfo_; }
  // The server process of this connection (0: none): the change feed skips
  // notifications this connection sent. Read from the feed's thread.
  int backend_pid() const { return pid_.load(std::memory_order_acquire); }
  // The schema tables live in (search_path), for channel names: two clusters
  // in one database, in different schemas, do not hear each other.
  const std::string& schema() const { return schema_; }
  bool connected() const;
  int64_t lost_since_ms() const override { return lost_since_.load(std::memory_order_acquire); }
  // Statements run on this connection now and again after every reconnect
  // (session settings, e.g. SET synchronous_commit = off).
  void set_session_sql(std::string sql);
  // The change feed's backstop: Change{} this often whatever was heard (0: never).
  void set_change_backstop_ms(int64_t ms) { backstop_ms_ = ms; }

  // For PgStmt: runs `sql` (as the code wrote it) with these parameters.
  pg_result* run_prepared(const std::string& sql, const std::vector<std::string>& values,
                          const std::vector<char>& null, const std::vector<char>& binary);

  // The conninfo libpq will be given: the operator's, over keepalive and
  // timeout defaults (a dead server is noticed in seconds, not hours), as the
  // null-terminated arrays PQconnectdbParams / PQconnectStartParams take (with
  // expand_dbname = 1). Built in place: the arrays point into it.
  struct ConnectParams {
    explicit ConnectParams(std::string conninfo);
    ConnectParams(const ConnectParams&) = delete;
    ConnectParams& operator=(const ConnectParams&) = delete;
    const char* const* keywords() const { return keywords_.data(); }
    const char* const* values() const { return values_.data(); }

   private:
    std::string conninfo_;
    std::vector<const char*> keywords_, values_;
  };
  // The conninfo without its password, for logs and messages.
  static std::string redact(const std::string& conninfo);
  // The host:port endpoints a conninfo (keyword=value or postgresql:// URI)
  // connects to, as libpq reads it: each of a multi-host list, hostaddr over
  // host, port 5432 unless given. No host, or a socket directory: localhost
  // (the same server over TCP). Empty if it does not parse.
  static std::vector<std::pair<std::string, int>> endpoints(const std::string& conninfo);
  // `?` -> `$1..$n` outside quoted strings, quoted identifiers and comments.
  static std::string rewrite_placeholders(std::string_view sql, int* count);
  // libpq's notice processor for Sluice's connections: says nothing.
  static void quiet(void*, const char*);

 private:
  explicit PgDb(std::string conninfo);
  void connect();          // throws DbError (Unavailable)
  void ensure_connected();  // reconnects a lost connection, at most once a second
  pg_result* run_prepared_once(const std::string& sql, const std::vector<std::string>& values,
                               const std::vector<char>& null, const std::vector<char>& binary);
  [[noreturn]] void fail(pg_result* res, std::string_view what);
  void check_command(pg_result* res, std::string_view what);  // clears res; throws on error
  void note_lost();
  void mark_lost();  // lost_since_ from now, unless already set

  struct Prepared {
    std::string name;
    std::list<std::string>::iterator lru;
  };
  std::string conninfo_, redacted_, schema_, session_sql_;
  pg_conn* conn_ = nullptr;
  std::atomic<int> pid_{0};
  std::atomic<int64_t> lost_since_{0};  // steady ms | 1 since a connection failed; 0 once connected
  int changes_ = 0;
  bool in_tx_ = false;
  int64_t next_connect_ms_ = 0;
  int64_t backstop_ms_ = 30000;
  uint64_t next_name_ = 0;
  std::unordered_map<std::string, Prepared> prepared_;  // by the code's SQL text
  std::list<std::string> lru_;                          // most recent first
};

}  // namespace sluice::store
