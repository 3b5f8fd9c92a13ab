#include "api/audit.hpp"

#include <algorithm>
#include <chrono>

#include "api/audit_refusals.hpp"
#include "api/json_writer.hpp"
#include "common/log.hpp"
#include "store/migrate.hpp"
#include "store/retry.hpp"
#include "store/store.hpp"

namespace sluice::api {

namespace {

// The audit table's own schema versions, recorded in meta('audit_schema'), so
// the audit log migrates independently of the identity schema.
const store::Migration kAuditMigrations[] = {
    {1, R"sql(
CREATE TABLE IF NOT EXISTS audit_events (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms        INTEGER NOT NULL,
  event_type     TEXT NOT NULL,
  event_source   TEXT NOT NULL,
  event_name     TEXT NOT NULL,
  account_id     TEXT NOT NULL,
  identity_type  TEXT NOT NULL,
  user_name      TEXT NOT NULL,
  session_name   TEXT NOT NULL,
  access_key_id  TEXT NOT NULL,
  source_ip      TEXT NOT NULL,
  request_id     TEXT NOT NULL,
  parameters     TEXT NOT NULL,
  error_code     TEXT NOT NULL,
  error_message  TEXT NOT NULL,
  http_status    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_account_time ON audit_events(account_id, time_ms);
CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events(time_ms);
)sql"},
    // 2: the caller's user agent, so console calls (no access key) are told apart.
    {2, "ALTER TABLE audit_events ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';"},
    // 3: a role session's SourceIdentity (STS AssumeRole), so every call made
    // with its credentials names the person behind the shared role.
    {3, "ALTER TABLE audit_events ADD COLUMN source_identity TEXT NOT NULL DEFAULT '';"},
};
// On PostgreSQL: the id is an identity column, which is also the log's order
// across nodes (events are listed by id, not by time: nodes' clocks differ a
// little, and ids are handed out at insert by the one server).
const store::Migration kAuditPgMigrations[] = {
    {1, R"sql(
CREATE TABLE IF NOT EXISTS audit_events (
  id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  time_ms        BIGINT NOT NULL,
  event_type     TEXT NOT NULL,
  event_source   TEXT NOT NULL,
  event_name     TEXT NOT NULL,
  account_id     TEXT NOT NULL,
  identity_type  TEXT NOT NULL,
  user_name      TEXT NOT NULL,
  session_name   TEXT NOT NULL,
  access_key_id  TEXT NOT NULL,
  source_ip      TEXT NOT NULL,
  request_id     TEXT NOT NULL,
  parameters     TEXT NOT NULL,
  error_code     TEXT NOT NULL,
  error_message  TEXT NOT NULL,
  http_status    BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_account_time ON audit_events(account_id, time_ms);
CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events(time_ms);
)sql"},
    {2, "ALTER TABLE audit_events ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';"},
    {3, "ALTER TABLE audit_events ADD COLUMN source_identity TEXT NOT NULL DEFAULT '';"},
};
const store::Schema kAuditSchema{"audit", "audit_schema", kAuditMigrations, false, kAuditPgMigrations};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

AuditEvent row_to_event(store::Stmt& q) {
  AuditEvent e;
  e.id = q.int64(0);
  e.time_ms = q.int64(1);
  e.event_type = q.text(2);
  e.event_source = q.text(3);
  e.event_name = q.text(4);
  e.account_id = q.text(5);
  e.identity_type = q.text(6);
  e.user_name = q.text(7);
  e.session_name = q.text(8);
  e.access_key_id = q.text(9);
  e.source_ip = q.text(10);
  e.request_id = q.text(11);
  e.parameters = q.text(12);
  e.error_code = q.text(13);
  e.error_message = q.text(14);
  e.http_status = static_cast<int>(q.int64(15));
  e.user_agent = q.text(16);
  e.source_identity = q.text(17);
  return e;
}

// Builds "WHERE ..." for a query; binds in order via the returned values.
struct Where {
  std::string sql;
  std::vector<std::string> text;
  std::vector<int64_t> nums;
  std::vector<bool> is_num;
};

}  // namespace

bool is_read_event(std::string_view event_name) {
  for (const char* p : kReadEventPrefixes)
    if (event_name.starts_with(p)) return true;
  return false;
}

namespace {

Where build_where(const AuditQuery& q) {
  Where w;
  auto add_text = [&](const char* clause, const std::string& v) {
    w.sql += w.sql.empty() ? " WHERE " : " AND ";
    w.sql += clause;
    w.text.push_back(v);
    w.is_num.push_back(false);
  };
  auto add_num = [&](const char* clause, int64_t v) {
    w.sql += w.sql.empty() ? " WHERE " : " AND ";
    w.sql += clause;
    w.nums.push_back(v);
    w.is_num.push_back(true);
  };
  if (!q.account_id.empty()) add_text("account_id = ?", q.account_id);
  if (q.start_ms) add_num("time_ms >= ?", *q.start_ms);
  if (q.end_ms) add_num("time_ms <= ?", *q.end_ms);
  if (q.event_name) add_text("event_name = ?", *q.event_name);
  if (q.user_name) add_text("user_name = ?", *q.user_name);
  if (q.access_key_id) add_text("access_key_id = ?", *q.access_key_id);
  if (q.event_type) add_text("event_type = ?", *q.event_type);
  if (q.read) {
    std::string any;
    for (const char* p : kReadEventPrefixes) any += std::string(any.empty() ? "" : " OR ") + "event_name LIKE '" + p + "%'";
    w.sql += w.sql.empty() ? " WHERE " : " AND ";
    w.sql += (*q.read ? "(" : "NOT (") + any + ")";
  }
  if (q.before_id > 0) add_num("id < ?", q.before_id);
  return w;
}

void bind_where(store::Stmt& s, const Where& w) {
  size_t ti = 0, ni = 0;
  for (size_t i = 0; i < w.is_num.size(); ++i) {
    if (w.is_num[i])
      s.bind(static_cast<int>(i + 1), w.nums[ni++]);
    else
      s.bind(static_cast<int>(i + 1), w.text[ti++]);
  }
}

constexpr const char* kColumns =
    "id, time_ms, event_type, event_source, event_name, account_id, identity_type, user_name, session_name, "
    "access_key_id, source_ip, request_id, parameters, error_code, error_message, http_status, user_agent, "
    "source_identity";

}  // namespace

bool is_secret_parameter(std::string_view name) {
  auto lower = [](std::string_view s) {
    std::string o(s);
    for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return o;
  };
  std::string n = lower(name);
  // TargetConfig (a data rule's, issue 19) may hold a webhook Secret or a password in a URL.
  for (const char* s : {"secret", "password", "signature", "securitytoken", "token", "authorization", "authenticationcode",
                        "targetconfig"})
    if (n.find(s) != std::string::npos) return true;
  return false;
}

AuditLog::AuditLog(std::shared_ptr<store::Store> store, AuditOptions opts)
    : store_(std::move(store)),
      opts_(opts),
      refusals_(std::make_unique<RefusalAggregator>(std::chrono::milliseconds(std::max<int64_t>(opts.refusal_window_ms, 0)),
                                                    std::max<size_t>(opts.refusal_sources, 1))) {
  {
    std::lock_guard lk(store_->mutex());
    store::migrate(store_->db(), kAuditSchema);  // throws DbError, also for a schema newer than this binary
  }
  if (store_->dialect() == store::Dialect::Postgres) own_db_ = store_->connect();
  thread_ = std::thread([this] { run(); });
}

template <class F>
auto AuditLog::with_db(F&& fn) {
  if (own_db_) {
    std::lock_guard lk(own_mu_);
    return fn(*own_db_);
  }
  std::lock_guard lk(store_->mutex());
  return fn(store_->db());
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool is_unidentified_refusal(const AuditEvent& e) {
  return e.event_type == "ApiCall" && e.account_id.empty() && !e.error_code.empty();
}

namespace {
// What an unidentified caller may put into a row: its parameters and the
// messages that quote them are its own choice, up to the 1 MiB request body.
constexpr size_t kUnidentifiedParameters = 2048;
constexpr size_t kUnidentifiedMessage = 512;

void bound_unidentified(AuditEvent& e) {
  if (e.parameters.size() > kUnidentifiedParameters)
    e.parameters = R"({"Truncated":true,"Bytes":)" + std::to_string(e.parameters.size()) + "}";
  if (e.error_message.size() > kUnidentifiedMessage) {
    size_t n = kUnidentifiedMessage;
    while (n > 0 && (static_cast<unsigned char>(e.error_message[n]) & 0xC0) == 0x80) --n;  // a whole UTF-8 character
    e.error_message.resize(n);
    e.error_message += "...";
  }
}
}  // namespace

void AuditLog::record(AuditEvent e) {
  if (e.time_ms == 0) e.time_ms = now_ms();
  const bool unidentified = is_unidentified_refusal(e);
  if (unidentified) bound_unidentified(e);
  std::unique_lock lk(mu_);
  // Anyone can send malformed or unsigned requests as fast as the network
  // allows: those are counted per source and reason, not recorded one by one.
  if (unidentified && !refusals_->admit(e, std::chrono::steady_clock::now())) return;
  queue_.push_back(std::move(e));
  if (queue_.size() >= opts_.max_queue) {
    std::vector<AuditEvent> batch;
    batch.swap(queue_);
    lk.unlock();
    write_batch(batch);
  }
}

void AuditLog::take_refusal_summaries(std::vector<AuditEvent>& batch, bool all) {
  for (auto& s : refusals_->due(std::chrono::steady_clock::now(), all)) batch.push_back(std::move(s));
}

// Returns once every event queued before the call is written: a batch the
// writer thread already took is waited for (write_mu_), not skipped.
void AuditLog::flush() {
  std::lock_guard w(write_mu_);
  std::vector<AuditEvent> batch;
  {
    std::lock_guard lk(mu_);
    batch.swap(queue_);
    take_refusal_summaries(batch, false);
  }
  write_batch(batch);
}

void AuditLog::run() {
  std::unique_lock lk(mu_);
  while (!stop_) {
    cv_.wait_for(lk, std::chrono::milliseconds(opts_.flush_ms));
    lk.unlock();
    std::unique_lock w(write_mu_);  // before mu_, as in flush()
    lk.lock();
    std::vector<AuditEvent> batch;
    batch.swap(queue_);
    take_refusal_summaries(batch, false);
    lk.unlock();
    write_batch(batch);
    w.unlock();
    int64_t t = now_ms();
    if (t - last_prune_ms_ > 3'600'000) {
      last_prune_ms_ = t;
      prune(t);
    }
    lk.lock();
  }
  std::vector<AuditEvent> rest;
  rest.swap(queue_);
  take_refusal_summaries(rest, true);  // counts of windows still open are not lost at shutdown
  lk.unlock();
  write_batch(rest);
}

void AuditLog::write_batch(std::vector<AuditEvent>& batch) {
  if (batch.empty()) return;
  try {
    store::retrying([&] {
    with_db([&](store::Db& db) {
    store::Transaction tx(db);
    // Multi-row INSERTs: one statement compiled per kRows events, not per
    // event; on PostgreSQL each is a round trip, so more rows per statement
    // (17 parameters a row, far below its 65,535).
    const size_t kRows = db.dialect() == store::Dialect::Postgres ? 400 : 50;
    const std::string head =
        "INSERT INTO audit_events(time_ms, event_type, event_source, event_name, account_id, identity_type, "
        "user_name, session_name, access_key_id, source_ip, request_id, parameters, error_code, error_message, "
        "http_status, user_agent, source_identity) VALUES ";
    for (size_t i = 0; i < batch.size(); i += kRows) {
      size_t n = std::min(kRows, batch.size() - i);
      std::string sql = head;
      for (size_t r = 0; r < n; ++r) sql += r ? ",(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
      auto st = db.prepare(sql);
      int k = 0;
      for (size_t r = 0; r < n; ++r) {
        const auto& e = batch[i + r];
        st.bind(++k, e.time_ms);
        for (const std::string* v : {&e.event_type, &e.event_source, &e.event_name, &e.account_id, &e.identity_type,
                                     &e.user_name, &e.session_name, &e.access_key_id, &e.source_ip, &e.request_id,
                                     &e.parameters, &e.error_code, &e.error_message})
          st.bind(++k, *v);
        st.bind(++k, static_cast<int64_t>(e.http_status));
        st.bind(++k, e.user_agent);
        st.bind(++k, e.source_identity);
      }
      st.run();
    }
    tx.commit();
    });
    });
  } catch (const std::exception& ex) {
    log::error("audit: cannot write {} events: {}", batch.size(), ex.what());
  }
  batch.clear();
}

std::vector<AuditEvent> AuditLog::lookup(const AuditQuery& q, int64_t* next_before) {
  flush();
  Where w = build_where(q);
  std::string sql = std::string("SELECT ") + kColumns + " FROM audit_events" + w.sql + " ORDER BY id DESC LIMIT ?";
  std::vector<AuditEvent> out;
  with_db([&](store::Db& db) {
    auto s = db.prepare(sql);
    bind_where(s, w);
    s.bind(static_cast<int>(w.is_num.size() + 1), static_cast<int64_t>(q.max_results + 1));
    while (s.step()) out.push_back(row_to_event(s));
  });
  if (next_before) *next_before = 0;
  if (out.size() > q.max_results) {
    out.pop_back();
    if (next_before) *next_before = out.back().id;
  }
  return out;
}

size_t AuditLog::export_jsonl(std::ostream& os, const AuditQuery& q) {
  flush();
  Where w = build_where(q);
  std::string sql = std::string("SELECT ") + kColumns + " FROM audit_events" + w.sql + " ORDER BY id ASC";
  size_t n = 0;
  with_db([&](store::Db& db) {
    auto s = db.prepare(sql);
    bind_where(s, w);
    while (s.step()) {
      os << to_json(row_to_event(s)) << "\n";
      ++n;
    }
  });
  return n;
}

size_t AuditLog::prune(int64_t now) {
  int64_t cutoff = now - opts_.retention_days * 86'400'000;
  try {
    return with_db([&](store::Db& db) {
      return static_cast<size_t>(db.run("DELETE FROM audit_events WHERE time_ms < ?", cutoff));
    });
  } catch (const std::exception& ex) {
    log::error("audit: prune failed: {}", ex.what());
    return 0;
  }
}

std::string AuditLog::to_json(const AuditEvent& e) {
  JsonWriter w;
  w.begin_object();
  w.field("EventId", std::to_string(e.id));
  w.field("EventTimeMs", e.time_ms);
  w.field("EventType", e.event_type);
  w.field("EventSource", e.event_source);
  w.field("EventName", e.event_name);
  w.field("AccountId", e.account_id);
  w.key("UserIdentity").begin_object();
  w.field("Type", e.identity_type);
  w.field("AccountId", e.account_id);
  w.field("UserName", e.user_name);
  w.field("SessionName", e.session_name);
  w.field("AccessKeyId", e.access_key_id);
  if (!e.source_identity.empty()) w.field("SourceIdentity", e.source_identity);
  w.end_object();
  w.field("SourceIpAddress", e.source_ip);
  w.field("UserAgent", e.user_agent);
  w.field("RequestId", e.request_id);
  w.key("RequestParameters").raw(e.parameters.empty() ? "{}" : e.parameters);
  w.field("ErrorCode", e.error_code);
  w.field("ErrorMessage", e.error_message);
  w.field("HttpStatus", e.http_status);
  w.end_object();
  return w.str();
}

}  // namespace sluice::api
