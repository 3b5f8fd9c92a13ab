#include "cluster/pg_link.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "store/pg_db.hpp"

namespace sluice::cluster {

namespace {
std::string trimmed(const char* m) {
  std::string s = m ? m : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

PgLink::PgLink(std::string conninfo)
    : conninfo_(std::move(conninfo)), redacted_(store::PgDb::redact(conninfo_)) {}

PgLink::~PgLink() { close(); }

void PgLink::close() {
  // The connection is non-blocking (and not yet sending anything while it
  // connects): PQfinish's farewell never waits on a server that went silent.
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

bool PgLink::connected() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

void PgLink::fail(const std::string& why) {
  close();
  throw std::runtime_error("PostgreSQL (" + redacted_ + "): " + why);
}

void PgLink::wait(short events, Clock::time_point deadline, const std::atomic<bool>* stop, const char* what) {
  for (;;) {
    if (stop && stop->load(std::memory_order_acquire)) fail("stopping");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) fail(std::string("no answer in time while ") + what);
    pollfd p{PQsocket(conn_), events, 0};
    if (p.fd < 0) fail(std::string("no socket while ") + what);
    // In slices, so that stop() is heard within 100 ms.
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 100)));
    if (r > 0) return;
    if (r < 0 && errno != EINTR) fail(std::string("poll failed while ") + what);
  }
}

void PgLink::connect(Clock::time_point deadline, const std::atomic<bool>* stop) {
  close();
  // The store's keepalive and timeout defaults under the operator's conninfo.
  const store::PgDb::ConnectParams params(conninfo_);
  conn_ = PQconnectStartParams(params.keywords(), params.values(), /*expand_dbname=*/1);
  if (!conn_) throw std::runtime_error("PostgreSQL (" + redacted_ + "): out of memory");
  if (PQstatus(conn_) == CONNECTION_BAD) fail(trimmed(PQerrorMessage(conn_)));
  PQsetNoticeProcessor(conn_, &store::PgDb::quiet, nullptr);
  // libpq: after PQconnectStart, act as if PQconnectPoll had said WRITING.
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  while (st != PGRES_POLLING_OK) {
    if (st == PGRES_POLLING_FAILED) fail(trimmed(PQerrorMessage(conn_)));
    wait(st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline, stop, "connecting");
    st = PQconnectPoll(conn_);
  }
  if (PQsetnonblocking(conn_, 1) != 0) fail(trimmed(PQerrorMessage(conn_)));
}

std::vector<PgLink::Row> PgLink::query(const char* sql, const std::vector<std::string>& params,
                                       Clock::time_point deadline, const std::atomic<bool>* stop) {
  if (!connected()) connect(deadline, stop);
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  if (!PQsendQueryParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0))
    fail(trimmed(PQerrorMessage(conn_)));
  for (;;) {  // sent whole
    const int f = PQflush(conn_);
    if (f == 0) break;
    if (f < 0) fail(trimmed(PQerrorMessage(conn_)));
    wait(POLLOUT | POLLIN, deadline, stop, "sending");
    if (!PQconsumeInput(conn_)) fail(trimmed(PQerrorMessage(conn_)));
  }
  std::vector<Row> rows;
  std::string error;
  for (;;) {
    while (PQisBusy(conn_)) {
      wait(POLLIN, deadline, stop, "waiting for the answer");
      if (!PQconsumeInput(conn_)) fail(trimmed(PQerrorMessage(conn_)));
    }
    PGresult* r = PQgetResult(conn_);
    if (!r) break;
    const auto status = PQresultStatus(r);
    if (status == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r); ++i) {
        Row row;
        for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
        rows.push_back(std::move(row));
      }
    } else if (status != PGRES_COMMAND_OK && error.empty()) {
      error = trimmed(PQresultErrorMessage(r));
    }
    PQclear(r);
  }
  if (PQstatus(conn_) != CONNECTION_OK) fail(error.empty() ? trimmed(PQerrorMessage(conn_)) : error);
  if (!error.empty()) throw std::runtime_error("PostgreSQL (" + redacted_ + "): " + error);
  return rows;
}

}  // namespace sluice::cluster
