// PostgreSQL's change feed: LISTEN/NOTIFY between the nodes of one store.
//
// Writers: a ChangeTx names the accounts it touches; just before COMMIT the
// feed sends `SELECT pg_notify('sluice_<channel>', account)` for each, inside
// the transaction, so a notification leaves on commit only (never for a
// rolled-back transaction) and carries whose state changed.
//
// Readers: a second connection of its own LISTENs on the channel. poll()
// drains it without blocking (PQconsumeInput, PQnotifies) and reports each
// notification another connection sent (this node's own writing connection is
// skipped by its backend pid: its owner already knows). NOTIFY does not
// replay, so a listener that lost its connection reports Change{} (anything
// may have changed) once it listens again; and a slow backstop reports
// Change{} every `backstop_ms` whatever happens. The listener reconnects
// without blocking (PQconnectStartParams / PQconnectPoll, advanced by each
// poll), since poll() runs on the threads that read IAM's and MQ's caches.
#include <libpq-fe.h>
#include <poll.h>

#include <functional>
#include <mutex>
#include <set>
#include <vector>

#include "common/log.hpp"
#include "store/changes.hpp"
#include "store/pg_db.hpp"

namespace sluice::store {

namespace {

constexpr int64_t kReconnectEveryMs = 1000;
constexpr int64_t kConnectDeadlineMs = 5000;

std::string channel_name(const std::string& channel, const std::string& schema) {
  std::string n = "sluice_" + channel;
  if (schema.empty() || schema == "public") return n;
  std::string with = n + "_" + schema;
  if (with.size() <= 63) return with;  // PostgreSQL's identifier limit
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016zx", std::hash<std::string>{}(schema));
  return n + "_" + hex;
}

std::string quote_ident(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

class PgChangeFeed final : public ChangeFeed {
 public:
  // Constructed with the store mutex held, before the owner's first load (so
  // that nothing committed in between is missed). Listens at once when it
  // can; when it cannot, it reports Change{} once it does.
  PgChangeFeed(PgDb& db, std::mutex& mu, std::string channel, int64_t backstop_ms)
      : db_(db), mu_(mu), channel_(channel_name(channel, db.schema())), backstop_ms_(backstop_ms),
        last_full_ms_(steady_ms()) {
    start_connect();
    for (int i = 0; i < 200 && state_ != State::Down && state_ != State::Ready; ++i) {
      advance();
      if (state_ != State::Down && state_ != State::Ready) {
        pollfd p{PQsocket(conn_), static_cast<short>(want_read_ ? POLLIN : POLLOUT), 0};
        ::poll(&p, 1, 25);
      }
    }
    if (state_ == State::Ready) pending_everything_ = false;  // listening before the owner loads
  }
  ~PgChangeFeed() override {
    if (conn_) PQfinish(conn_);
  }

  void poll(const OnChange& on_change) override {
    std::unique_lock lk(mu_, std::try_to_lock);
    if (!lk.owns_lock()) return;  // a writer holds the store: next time
    std::lock_guard listener(lmu_);
    drain(on_change);
  }

  // Draining the listener costs no round trip (one recv that finds nothing,
  // mostly). What it cannot see is a notification still on its way: another
  // node's commit signals this node's listening backend before that node's
  // COMMIT returns, and the backend sends the notification when it next
  // runs, typically well within the time the caller's request took to reach
  // this node and be authenticated (docs/control-store.md).
  //
  // Only the listener's own mutex: the caller's on_change notes what it heard
  // and reloads nothing, so a read does not queue behind a writer holding the
  // store mutex (nor behind other reads for long: one recv each).
  bool catch_up(const OnChange& on_change) override {
    std::lock_guard listener(lmu_);
    return drain(on_change) && state_ == State::Ready;
  }

 private:
  // lmu_ held (and the store mutex, when on_change reloads). false: the
  // owner's reload failed (everything is reported again later).
  bool drain(const OnChange& on_change) {
    try {
      advance();
      bool everything = pending_everything_;
      pending_everything_ = false;
      std::vector<std::string> accounts;
      if (state_ == State::Ready) {
        if (PQconsumeInput(conn_) == 0) {
          lost("the listener's connection failed: " + std::string(PQerrorMessage(conn_)));
        } else {
          const int own = db_.backend_pid();
          while (PGnotify* n = PQnotifies(conn_)) {
            if (n->be_pid != own) {
              if (n->extra && *n->extra)
                accounts.emplace_back(n->extra);
              else
                everything = true;
            }
            PQfreemem(n);
          }
        }
      }
      const int64_t now = steady_ms();
      // The backstop only while listening: a listener that comes back reports
      // everything anyway, and the store is likely out of reach meanwhile.
      if (backstop_ms_ > 0 && now - last_full_ms_ >= backstop_ms_ && state_ == State::Ready) everything = true;
      // The owner reloads from the store: should that fail (the store out of
      // reach), everything is reported again on a later poll, so nothing heard
      // is forgotten and the caches stay as they were meanwhile.
      pending_everything_ = true;
      if (everything) {
        last_full_ms_ = now;
        on_change(Change{});
      } else {
        std::set<std::string> seen;
        for (const auto& a : accounts)
          if (seen.insert(a).second) on_change(Change{a});
      }
      pending_everything_ = false;
      return true;
    } catch (const std::exception& e) {
      log::debug("change feed {}: {}; reloading everything later", channel_, e.what());
      return false;
    }
  }

 public:
  void begun() override { touched_.clear(); }
  void touched(std::string_view account_id) override { touched_.emplace(account_id); }
  void committing() override {
    // Inside the writing transaction: delivered at COMMIT, never for a rollback.
    if (touched_.empty()) touched_.emplace();  // nobody named: tell them anything may have changed
    for (const auto& a : touched_) db_.query("SELECT pg_notify(?, ?)", channel_, a).run();
  }
  void committed() override { touched_.clear(); }

  int64_t lost_since_ms() const override { return lost_since_.load(std::memory_order_acquire); }

 private:
  enum class State { Down, Connecting, Listening, Ready };

  void start_connect() {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    next_attempt_ms_ = steady_ms() + kReconnectEveryMs;
    const PgDb::ConnectParams params(db_.conninfo());
    conn_ = PQconnectStartParams(params.keywords(), params.values(), /*expand_dbname=*/1);
    if (!conn_ || PQstatus(conn_) == CONNECTION_BAD) {
      state_ = State::Down;
      return;
    }
    PQsetNoticeProcessor(conn_, &PgDb::quiet, nullptr);
    state_ = State::Connecting;
    want_read_ = false;  // PGRES_POLLING_WRITING first
    deadline_ms_ = steady_ms() + kConnectDeadlineMs;
  }

  // Moves the connection along as far as it can go without waiting.
  void advance() {
    const int64_t now = steady_ms();
    if (state_ == State::Down) {
      if (now < next_attempt_ms_) return;
      start_connect();
    }
    for (int i = 0; i < 16 && state_ == State::Connecting; ++i) {
      if (now > deadline_ms_) return lost("connecting timed out");
      pollfd p{PQsocket(conn_), static_cast<short>(want_read_ ? POLLIN : POLLOUT), 0};
      if (p.fd < 0 || ::poll(&p, 1, 0) <= 0) return;  // not ready yet: the next poll goes on
      switch (PQconnectPoll(conn_)) {
        case PGRES_POLLING_READING: want_read_ = true; break;
        case PGRES_POLLING_WRITING: want_read_ = false; break;
        case PGRES_POLLING_OK:
          PQsetnonblocking(conn_, 1);
          if (!PQsendQuery(conn_, ("LISTEN " + quote_ident(channel_)).c_str()))
            return lost("LISTEN failed: " + std::string(PQerrorMessage(conn_)));
          state_ = State::Listening;
          break;
        default: return lost("cannot connect: " + std::string(PQerrorMessage(conn_)));
      }
    }
    if (state_ == State::Listening) {
      if (PQflush(conn_) < 0 || PQconsumeInput(conn_) == 0)
        return lost("LISTEN failed: " + std::string(PQerrorMessage(conn_)));
      while (!PQisBusy(conn_)) {
        PGresult* r = PQgetResult(conn_);
        if (!r) {
          // Listening: whatever was committed before now, the owner reloads.
          state_ = State::Ready;
          pending_everything_ = true;
          lost_since_.store(0, std::memory_order_release);
          if (listened_) log::info("change feed {}: listening again; reloading everything", channel_);
          listened_ = true;
          return;
        }
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) return lost("LISTEN failed: " + std::string(PQerrorMessage(conn_)));
      }
    }
  }

  void lost(const std::string& why) {
    if (lost_since_.load(std::memory_order_acquire) == 0) {
      lost_since_.store(steady_ms() | 1, std::memory_order_release);
      log::warn("change feed {}: {}; retrying every {} ms", channel_, why, kReconnectEveryMs);
    }
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    state_ = State::Down;
  }

  PgDb& db_;
  std::mutex& mu_;  // the store's
  const std::string channel_;
  const int64_t backstop_ms_;
  // The listener, under lmu_ (taken after the store mutex where both are held):
  std::mutex lmu_;
  PGconn* conn_ = nullptr;
  State state_ = State::Down;
  bool want_read_ = false;
  bool pending_everything_ = false;
  bool listened_ = false;  // once listening: later connections are reconnections
  int64_t next_attempt_ms_ = 0, deadline_ms_ = 0, last_full_ms_ = 0;
  std::set<std::string, std::less<>> touched_;  // under the store mutex (the writer's side)
  // Steady ms since the listener has been without a connection (0: listening); read anywhere.
  std::atomic<int64_t> lost_since_{steady_ms() | 1};
};

}  // namespace

std::unique_ptr<ChangeFeed> PgDb::watch(std::string channel, std::mutex& store_mutex) {
  return std::make_unique<PgChangeFeed>(*this, store_mutex, std::move(channel), backstop_ms_);
}

}  // namespace sluice::store
