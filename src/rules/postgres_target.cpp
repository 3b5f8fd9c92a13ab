// The postgres target: each entry is one row of the rule's Table (made if it
// does not exist), for archiving and SQL queries:
//   rule TEXT, seq BIGINT, instance_id TEXT, topic TEXT, qos INT, payload BYTEA,
//   event JSONB (status rules: the event), stored_at TIMESTAMPTZ; PRIMARY KEY (rule, seq)
// A retry of an entry already stored is a no-op (ON CONFLICT DO NOTHING): at
// least once becomes exactly one row.
//
// TargetConfig: {"Url": "postgresql://user:pw@host:5432/db", "Table": "mqtt_archive"}.
#include <libpq-fe.h>

#include "common/egress.hpp"
#include "rules/targets_internal.hpp"

namespace sluice::rules {

namespace {

class PostgresTarget final : public Target {
 public:
  explicit PostgresTarget(const mq::Rule& rule)
      : rule_(rule), url_(config_field(rule, "Url")), table_(config_field(rule, "Table")) {}
  ~PostgresTarget() override {
    if (conn_) PQfinish(conn_);
  }

  Outcome deliver(const Entry& e, std::string& error) override {
    if (!ready(error)) return Outcome::Retry;
    // BIGINT is signed: an unrecorded (QoS 0) entry's seq, bit 63 set, is stored negative.
    const std::string seq = std::to_string(static_cast<int64_t>(e.seq)), qos = std::to_string(e.message->qos);
    const bool status = rule_.type == "status";
    const char* values[7] = {rule_.name.c_str(), seq.c_str(), rule_.instance_id.c_str(), e.message->topic.c_str(),
                             qos.c_str(), e.message->payload.data(), status ? e.message->payload.c_str() : nullptr};
    const int lengths[7] = {0, 0, 0, 0, 0, static_cast<int>(e.message->payload.size()), 0};
    const int formats[7] = {0, 0, 0, 0, 0, 1, 0};  // the payload is binary
    const std::string sql = "INSERT INTO " + table_ +
                            " (rule, seq, instance_id, topic, qos, payload, event) VALUES ($1, $2, $3, $4, $5, $6, "
                            "$7::jsonb) ON CONFLICT (rule, seq) DO NOTHING";
    PGresult* r = PQexecParams(conn_, sql.c_str(), 7, nullptr, values, lengths, formats, 0);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) error = std::string("PostgreSQL: ") + PQresultErrorMessage(r);
    PQclear(r);
    if (ok) return Outcome::Delivered;
    if (PQstatus(conn_) != CONNECTION_OK) {  // gone: reconnect on the next try
      PQfinish(conn_);
      conn_ = nullptr;
    }
    return Outcome::Retry;
  }

 private:
  bool ready(std::string& error) {
    if (conn_ && PQstatus(conn_) == CONNECTION_OK) return true;
    if (conn_) PQfinish(conn_);
    // Connected to an address a tenant's rule may reach (common/egress.hpp),
    // pinned with hostaddr (libpq connects there; host stays for TLS and auth).
    const auto u = common::split_url_host(url_);
    if (!u) {
      error = "the PostgreSQL Url has no host";
      return false;
    }
    if (const std::string p = common::postgres_param_refused(url_); !p.empty()) {
      error = "the PostgreSQL Url's parameter " + p + " is not allowed in a rule";
      return false;
    }
    const auto addrs = common::egress_policy().resolve(u->host, u->port ? u->port : 5432, error);
    if (addrs.empty()) {
      error = "PostgreSQL: " + error;
      return false;
    }
    const std::string info = url_ + (url_.find('?') == std::string::npos ? "?" : "&") +
                             "connect_timeout=5&hostaddr=" + addrs.front().text;
    conn_ = PQconnectdb(info.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      error = std::string("cannot reach PostgreSQL: ") + PQerrorMessage(conn_);
      PQfinish(conn_);
      conn_ = nullptr;
      return false;
    }
    PGresult* r = PQexec(conn_, ("CREATE TABLE IF NOT EXISTS " + table_ +
                                 " (rule TEXT NOT NULL, seq BIGINT NOT NULL, instance_id TEXT NOT NULL, "
                                 "topic TEXT NOT NULL, qos INT NOT NULL, payload BYTEA NOT NULL, event JSONB, "
                                 "stored_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (rule, seq))")
                                    .c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) error = std::string("PostgreSQL: table ") + table_ + ": " + PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) {
      PQfinish(conn_);
      conn_ = nullptr;
    }
    return ok;
  }

  mq::Rule rule_;
  std::string url_, table_;
  PGconn* conn_ = nullptr;
};

}  // namespace

std::unique_ptr<Target> make_postgres_target(const mq::Rule& rule) { return std::make_unique<PostgresTarget>(rule); }

}  // namespace sluice::rules
