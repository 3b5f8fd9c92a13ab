#pragma once
// Running a write transaction again when it lost a race (docs/control-store.md).
//
// SQLite's single writer serialized every transaction; on PostgreSQL writers
// on several nodes run at once under SERIALIZABLE, and the loser of a race is
// told so (DbError::Kind::Retry). A unique key taken by a concurrent writer
// (Kind::Unique) is run again too: the rerun's own check then sees the
// winner's row and answers what it answers on one node (the same
// EntityAlreadyExists.*), and a random id that collided is drawn anew.
//
// `attempt` is the whole transaction: it takes the store lock, BEGINs,
// commits, and has no effect outside the database before its commit (caches
// are updated after commit). Bounded: after kAttempts the error goes up.
#include <chrono>
#include <random>
#include <thread>

#include "store/db.hpp"

namespace sluice::store {

inline constexpr int kTransactionAttempts = 6;

// Sleeps a random while before attempt n + 1 (n >= 1): up to 2^n ms, at most 64 ms,
// so that two nodes that collided do not collide again in step.
inline void retry_backoff(int n) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  const int cap = 1 << std::min(n, 6);
  std::this_thread::sleep_for(std::chrono::microseconds(rng() % (static_cast<unsigned>(cap) * 1000u)));
}

inline bool worth_retrying(const DbError& e) {
  return e.kind == DbError::Kind::Retry || e.kind == DbError::Kind::Unique;
}

template <class F>
auto retrying(F&& attempt) -> decltype(attempt()) {
  for (int n = 1;; ++n) {
    try {
      return attempt();
    } catch (const DbError& e) {
      if (n >= kTransactionAttempts || !worth_retrying(e)) throw;
    }
    retry_backoff(n);
  }
}

}  // namespace sluice::store
