#pragma once
// One PostgreSQL connection on which no step can hang: the connect, the send
// and the wait for the answer each give up at a deadline (libpq's
// non-blocking calls under poll()). The node's lease (pg_leases.hpp) runs on
// it: a server that refuses is seen at once, and one that accepts the
// connection but never answers (hung, or a network that drops packets while
// the peer's kernel still acknowledges them, where TCP keepalives and
// tcp_user_timeout see nothing wrong) is seen at the deadline. The
// store's PgDb blocks in libpq instead, which is right for the control store
// (its callers wait for their answer anyway) and wrong for a lease, whose
// whole point is to notice in seconds.
//
// One thread at a time. A failure drops the connection; the next query makes
// it again.
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

struct pg_conn;

namespace sluice::cluster {

class PgLink {
 public:
  using Clock = std::chrono::steady_clock;
  using Row = std::vector<std::string>;

  explicit PgLink(std::string conninfo);
  ~PgLink();
  PgLink(const PgLink&) = delete;
  PgLink& operator=(const PgLink&) = delete;

  // Runs `sql` with text parameters ($1..$n), connecting first when needed;
  // the rows, every value as text ("t"/"f" for booleans; NULL as ""). Throws
  // std::runtime_error with the reason (and the conninfo without its
  // password) when PostgreSQL refuses, fails the statement, or has not
  // answered by `deadline`; and when `stop` becomes true while waiting.
  std::vector<Row> query(const char* sql, const std::vector<std::string>& params, Clock::time_point deadline,
                         const std::atomic<bool>* stop = nullptr);
  void close();
  bool connected() const;
  // The conninfo without its password, for messages.
  const std::string& where() const { return redacted_; }

 private:
  void connect(Clock::time_point deadline, const std::atomic<bool>* stop);
  // Waits until the socket is ready for `events`; throws at the deadline or stop.
  void wait(short events, Clock::time_point deadline, const std::atomic<bool>* stop, const char* what);
  [[noreturn]] void fail(const std::string& why);  // drops the connection, throws
  std::string conninfo_, redacted_;
  pg_conn* conn_ = nullptr;
};

}  // namespace sluice::cluster
