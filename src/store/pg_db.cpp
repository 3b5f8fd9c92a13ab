#include "store/pg_db.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <time.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace sluice::store {

namespace {

constexpr size_t kMaxPrepared = 256;        // named statements kept per connection
constexpr int64_t kReconnectEveryMs = 1000;  // a lost connection is tried again at most this often
constexpr unsigned kByteaOid = 17, kBoolOid = 16;

int64_t steady_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// SQLSTATE classes a caller acts on (store/db.hpp): 23505 unique_violation;
// 40001 serialization_failure, 40P01 deadlock_detected; class 08 connection
// exceptions, 57P01..03 the server shutting down or starting, 53300 too many
// connections: the store is out of reach for now.
DbError::Kind kind_of(const char* sqlstate) {
  if (!sqlstate) return DbError::Kind::Other;
  std::string_view s(sqlstate);
  if (s == "23505") return DbError::Kind::Unique;
  if (s == "40001" || s == "40P01") return DbError::Kind::Retry;
  if (s.substr(0, 2) == "08" || s == "57P01" || s == "57P02" || s == "57P03" || s == "53300")
    return DbError::Kind::Unavailable;
  return DbError::Kind::Other;
}

std::string trimmed(const char* m) {
  std::string s = m ? m : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

// ---- statements ----

PgStmt::PgStmt(PgDb& db, std::string sql, int nparams)
    : db_(db), sql_(std::move(sql)), values_(static_cast<size_t>(nparams)),
      null_(static_cast<size_t>(nparams), 1), binary_(static_cast<size_t>(nparams), 0) {}

PgStmt::~PgStmt() {
  if (res_) PQclear(res_);
}

void PgStmt::set(int i, std::string_view v, bool binary) {
  if (i < 1 || static_cast<size_t>(i) > values_.size())
    throw DbError("bind: parameter " + std::to_string(i) + " out of range (" + std::to_string(values_.size()) +
                  ") in: " + sql_);
  const auto k = static_cast<size_t>(i - 1);
  values_[k].assign(v.data() ? v.data() : "", v.size());
  null_[k] = 0;
  binary_[k] = binary ? 1 : 0;
}

void PgStmt::bind_int64(int i, int64_t v) { set(i, std::to_string(v), false); }
void PgStmt::bind_text(int i, std::string_view v) { set(i, v, false); }
void PgStmt::bind_blob(int i, std::string_view v) { set(i, v, true); }
void PgStmt::bind_null(int i) {
  set(i, {}, false);
  null_[static_cast<size_t>(i - 1)] = 1;
}

bool PgStmt::step() {
  if (row_ < 0) {
    if (res_) PQclear(res_);
    res_ = nullptr;
    res_ = db_.run_prepared(sql_, values_, null_, binary_);
    row_ = 0;
  } else {
    ++row_;
  }
  return row_ < PQntuples(res_);
}

void PgStmt::reset() {
  if (res_) PQclear(res_);
  res_ = nullptr;
  row_ = -1;
  for (size_t k = 0; k < values_.size(); ++k) {
    values_[k].clear();
    null_[k] = 1;
    binary_[k] = 0;
  }
}

bool PgStmt::is_null(int i) const {
  if (!res_ || row_ < 0 || row_ >= PQntuples(res_) || i < 0 || i >= PQnfields(res_)) return true;
  return PQgetisnull(res_, row_, i) != 0;
}

std::string PgStmt::text(int i) const {
  if (is_null(i)) return {};
  const char* v = PQgetvalue(res_, row_, i);
  const int n = PQgetlength(res_, row_, i);
  if (PQftype(res_, i) == kByteaOid) {  // text form of bytea is \x<hex>: give the bytes, as SQLite would
    size_t len = 0;
    unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(v), &len);
    if (!raw) throw DbError("out of memory reading a bytea column");
    std::string out(reinterpret_cast<const char*>(raw), len);
    PQfreemem(raw);
    return out;
  }
  return std::string(v, static_cast<size_t>(n));
}

std::string PgStmt::blob(int i) const { return text(i); }

int64_t PgStmt::int64(int i) const {
  if (is_null(i)) return 0;
  const char* v = PQgetvalue(res_, row_, i);
  if (PQftype(res_, i) == kBoolOid) return v[0] == 't' ? 1 : 0;
  // As SQLite converts text to an integer: the leading integer, else 0.
  const char* end = v + PQgetlength(res_, row_, i);
  while (v < end && *v == ' ') ++v;
  if (v < end && *v == '+') ++v;
  int64_t out = 0;
  std::from_chars(v, end, out);
  return out;
}

// ---- the connection ----

void PgDb::quiet(void*, const char*) {
  // NOTICEs ("relation already exists, skipping") and the server's farewell
  // on shutdown are not for the terminal; errors reach callers as DbError.
}

PgDb::PgDb(std::string conninfo) : conninfo_(std::move(conninfo)), redacted_(redact(conninfo_)) {}

PgDb::~PgDb() {
  if (conn_) PQfinish(conn_);
}

PgDb::ConnectParams::ConnectParams(std::string conninfo) : conninfo_(std::move(conninfo)) {
  // Ours first: the operator's conninfo (expanded from dbname) overrides any of them.
  keywords_ = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
               "keepalives_count", "tcp_user_timeout", "application_name", "dbname", nullptr};
  values_ = {"5", "1", "10", "3", "3", "15000", "sluice", conninfo_.c_str(), nullptr};
}

std::string PgDb::redact(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (!opts) {
    if (err) PQfreemem(err);
    return "(an unreadable conninfo)";
  }
  std::string out;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val || !*o->val || std::strcmp(o->keyword, "password") == 0) continue;
    if (!out.empty()) out += ' ';
    out += o->keyword;
    out += '=';
    out += o->val;
  }
  PQconninfoFree(opts);
  return out.empty() ? "(the libpq defaults)" : out;
}

std::vector<std::pair<std::string, int>> PgDb::endpoints(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (!opts) {
    if (err) PQfreemem(err);
    return {};
  }
  std::string host, hostaddr, port;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val) continue;
    if (std::strcmp(o->keyword, "host") == 0) host = o->val;
    if (std::strcmp(o->keyword, "hostaddr") == 0) hostaddr = o->val;
    if (std::strcmp(o->keyword, "port") == 0) port = o->val;
  }
  PQconninfoFree(opts);
  auto split = [](const std::string& list) {
    std::vector<std::string> out;
    size_t from = 0;
    for (size_t comma; (comma = list.find(',', from)) != std::string::npos; from = comma + 1)
      out.push_back(list.substr(from, comma - from));
    out.push_back(list.substr(from));
    return out;
  };
  const std::vector<std::string> hosts = split(hostaddr.empty() ? host : hostaddr), ports = split(port);
  std::vector<std::pair<std::string, int>> out;
  for (size_t i = 0; i < hosts.size(); ++i) {
    const std::string& h = hosts[i];
    const std::string& p = ports.size() == hosts.size() ? ports[i] : ports.front();
    out.emplace_back(h.empty() || h.front() == '/' ? "localhost" : h, p.empty() ? 5432 : std::atoi(p.c_str()));
  }
  return out;
}

std::string PgDb::rewrite_placeholders(std::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {  // a quoted string or identifier; a doubled quote stays inside
      size_t j = i + 1;
      while (j < sql.size()) {
        if (sql[j] == c) {
          if (j + 1 < sql.size() && sql[j + 1] == c) {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      out.append(sql.substr(i, j - i + 1));
      i = j;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t j = sql.find('\n', i);
      if (j == std::string_view::npos) j = sql.size() - 1;
      out.append(sql.substr(i, j - i + 1));
      i = j;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      size_t j = sql.find("*/", i + 2);
      j = j == std::string_view::npos ? sql.size() - 1 : j + 1;
      out.append(sql.substr(i, j - i + 1));
      i = j;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  *count = n;
  return out;
}

std::unique_ptr<PgDb> PgDb::open(const std::string& conninfo) {
  std::unique_ptr<PgDb> db(new PgDb(conninfo));
  db->connect();
  return db;
}

void PgDb::connect() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  pid_.store(0, std::memory_order_release);
  prepared_.clear();
  lru_.clear();
  in_tx_ = false;
  const ConnectParams params(conninfo_);
  conn_ = PQconnectdbParams(params.keywords(), params.values(), /*expand_dbname=*/1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    std::string why = conn_ ? trimmed(PQerrorMessage(conn_)) : "out of memory";
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    next_connect_ms_ = steady_ms() + kReconnectEveryMs;
    mark_lost();
    throw DbError("cannot connect to PostgreSQL (" + redacted_ + "): " + why, DbError::Kind::Unavailable);
  }
  PQsetNoticeProcessor(conn_, &PgDb::quiet, nullptr);
  PGresult* r = PQexec(conn_, "SELECT current_schema()");
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
    schema_ = PQgetvalue(r, 0, 0);
  else
    schema_ = "public";
  PQclear(r);
  if (!session_sql_.empty()) check_command(PQexec(conn_, session_sql_.c_str()), "session settings");
  pid_.store(PQbackendPID(conn_), std::memory_order_release);
  lost_since_.store(0, std::memory_order_release);
}

void PgDb::mark_lost() {
  int64_t none = 0;
  lost_since_.compare_exchange_strong(none, steady_ms() | 1, std::memory_order_acq_rel);
}

void PgDb::set_session_sql(std::string sql) {
  session_sql_ = std::move(sql);
  exec(session_sql_);
}

bool PgDb::connected() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

void PgDb::note_lost() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  pid_.store(0, std::memory_order_release);
  prepared_.clear();
  lru_.clear();
}

void PgDb::ensure_connected() {
  if (conn_ && PQstatus(conn_) == CONNECTION_OK && !in_tx_) {
    // An idle connection whose server went away (restarted, crashed) has
    // something to read: its farewell, or the end of the stream. This
    // connection does not LISTEN, so anything unasked for is that: make the
    // connection again now rather than fail this call on the old one.
    pollfd p{PQsocket(conn_), POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) note_lost();
  }
  if (conn_ && PQstatus(conn_) == CONNECTION_OK) return;
  const bool was_in_tx = in_tx_;
  note_lost();
  if (was_in_tx) {
    in_tx_ = false;
    throw DbError("the connection to PostgreSQL (" + redacted_ + ") was lost during a transaction; it was not committed",
                  DbError::Kind::Unavailable);
  }
  if (steady_ms() < next_connect_ms_)
    throw DbError("PostgreSQL (" + redacted_ + ") is unreachable; trying again", DbError::Kind::Unavailable);
  connect();
}

void PgDb::fail(PGresult* res, std::string_view what) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = trimmed(res ? PQresultErrorMessage(res) : nullptr);
  if (msg.empty() && conn_) msg = trimmed(PQerrorMessage(conn_));
  DbError::Kind kind = kind_of(state);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    kind = DbError::Kind::Unavailable;
    msg = "lost the connection to PostgreSQL (" + redacted_ + "): " + msg;
    const bool was_in_tx = in_tx_;
    note_lost();
    in_tx_ = was_in_tx;  // the transaction is gone; rollback() clears it
  }
  if (res) PQclear(res);
  throw DbError(std::string(what) + ": " + msg, kind);
}

void PgDb::check_command(PGresult* res, std::string_view what) {
  const auto st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(res, what);
  PQclear(res);
}

void PgDb::exec(std::string_view sql) {
  ensure_connected();
  check_command(PQexec(conn_, std::string(sql).c_str()), "exec");
}

Stmt PgDb::prepare(std::string_view sql) {
  // Prepared on the server when first run (PgDb::run_prepared), so that a
  // statement made before a reconnect still runs after it.
  int n = 0;
  rewrite_placeholders(sql, &n);
  return Stmt(std::make_unique<PgStmt>(*this, std::string(sql), n));
}

PGresult* PgDb::run_prepared(const std::string& sql, const std::vector<std::string>& values,
                             const std::vector<char>& null, const std::vector<char>& binary) {
  // Outside a transaction, a read that finds the connection gone (the server
  // restarted since the last call, without a word) runs once more on a new one.
  const bool may_retry = !in_tx_ && sql.compare(0, 6, "SELECT") == 0;
  try {
    return run_prepared_once(sql, values, null, binary);
  } catch (const DbError& e) {
    if (!may_retry || e.kind != DbError::Kind::Unavailable || conn_) throw;
  }
  return run_prepared_once(sql, values, null, binary);
}

PGresult* PgDb::run_prepared_once(const std::string& sql, const std::vector<std::string>& values,
                                  const std::vector<char>& null, const std::vector<char>& binary) {
  ensure_connected();
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    int n = 0;
    const std::string text = rewrite_placeholders(sql, &n);
    std::string name = "sluice_" + std::to_string(++next_name_);
    PGresult* r = PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) fail(r, "prepare (" + sql + ")");
    PQclear(r);
    if (prepared_.size() >= kMaxPrepared) {
      // Forget the least recently used (a failed DEALLOCATE, e.g. inside an
      // aborted transaction, only leaves a name unused: names are never reused).
      const std::string old = lru_.back();
      lru_.pop_back();
      auto o = prepared_.find(old);
      if (o != prepared_.end()) {
        PQclear(PQexec(conn_, ("DEALLOCATE " + o->second.name).c_str()));
        prepared_.erase(o);
      }
    }
    lru_.push_front(sql);
    it = prepared_.emplace(sql, Prepared{std::move(name), lru_.begin()}).first;
  } else if (it->second.lru != lru_.begin()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  const size_t n = values.size();
  std::vector<const char*> vals(n);
  std::vector<int> lens(n), fmts(n);
  for (size_t k = 0; k < n; ++k) {
    vals[k] = null[k] ? nullptr : values[k].data();
    lens[k] = static_cast<int>(values[k].size());
    fmts[k] = binary[k] ? 1 : 0;
  }
  PGresult* r = PQexecPrepared(conn_, it->second.name.c_str(), static_cast<int>(n), vals.data(), lens.data(),
                               fmts.data(), /*resultFormat=*/0);
  const auto st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) fail(r, "step (" + sql + ")");
  // Rows changed, as SQLite's sqlite3_changes(): a SELECT leaves the count alone.
  if (std::strncmp(PQcmdStatus(r), "SELECT", 6) != 0) changes_ = std::atoi(PQcmdTuples(r));
  return r;
}

void PgDb::begin_write() {
  exec("BEGIN ISOLATION LEVEL SERIALIZABLE");
  in_tx_ = true;
}

void PgDb::commit() {
  if (!conn_) {
    in_tx_ = false;
    throw DbError("commit: the connection to PostgreSQL (" + redacted_ + ") was lost; nothing was committed",
                  DbError::Kind::Unavailable);
  }
  PGresult* r = PQexec(conn_, "COMMIT");
  const auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK) {
    in_tx_ = false;
    fail(r, "commit");
  }
  // COMMIT of a transaction that failed earlier answers ROLLBACK, not an error.
  const bool rolled_back = std::strncmp(PQcmdStatus(r), "ROLLBACK", 8) == 0;
  PQclear(r);
  in_tx_ = false;
  if (rolled_back) throw DbError("commit: the transaction had failed and was rolled back");
}

void PgDb::rollback() noexcept {
  in_tx_ = false;
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) return;
  PQclear(PQexec(conn_, "ROLLBACK"));
}

}  // namespace sluice::store
