#pragma once
// The one migration runner. Every owner of tables in the control store (IAM,
// MQ, the audit log) lists its steps in a Schema; the runner applies the steps
// the database has not seen yet, each in its own transaction together with the
// owner's new version, so a crash leaves the previous version in force. A
// database whose version for an owner is above that owner's newest step was
// written by a newer Sluice: it is refused with a message, never "migrated".
//
// To change a schema, append a step to the owner's list; never edit one that
// has shipped. Each backend has its own list (the DDL differs: BIGINT, bytea,
// identity columns, no triggers on PostgreSQL) with the same version numbers,
// so a version means the same tables everywhere; the runner picks the list of
// db.dialect(). On PostgreSQL the runner holds a lock (SchemaLock) so that
// nodes starting together migrate one at a time.
#include <span>
#include <string>

#include "store/db.hpp"

namespace sluice::store {

struct Migration {
  int version;      // ascending, from 1
  const char* sql;  // one or more statements
};

struct Schema {
  const char* owner;                 // "iam", "mq", "audit": in messages
  const char* version_key;           // the meta key holding the version applied ("mq_schema")
  std::span<const Migration> steps;  // ascending versions (SQLite's)
  // IAM's versions predate the runner and live in SQLite's PRAGMA user_version;
  // on other backends they are in meta like everyone else's.
  bool sqlite_user_version = false;
  // The same versions for PostgreSQL (empty: the owner has none yet, and
  // migrate() refuses to run on PostgreSQL).
  std::span<const Migration> pg_steps = {};

  std::span<const Migration> steps_for(Dialect d) const { return d == Dialect::Postgres ? pg_steps : steps; }
};

// While it lives, no other node migrates (PostgreSQL: a session advisory lock;
// SQLite's writers are serialized already, so nothing there).
class SchemaLock {
 public:
  explicit SchemaLock(Db& db);
  ~SchemaLock();
  SchemaLock(const SchemaLock&) = delete;
  SchemaLock& operator=(const SchemaLock&) = delete;

 private:
  Db& db_;
  bool held_ = false;
};

// The version a fully migrated database has for this owner (SQLite's list;
// latest_version(s, dialect) for another's).
int latest_version(const Schema& s);
int latest_version(const Schema& s, Dialect d);
// The version applied (0: none yet).
int applied_version(Db& db, const Schema& s);
// Applies pending steps; returns the version now in force. Throws DbError, also
// when the database holds a version above latest_version(s).
int migrate(Db& db, const Schema& s);

// The store's own table, where owners keep their versions, counters and flags:
// created by Store::open, and by the runner when missing. SQLite types its
// value per row (a sealed blob, integers, text); on PostgreSQL it is TEXT:
// counters are incremented as CAST(CAST(value AS BIGINT) + 1 AS TEXT), which
// both accept, and the one sealed value (key_check) is kept in base64.
void ensure_meta(Db& db);

}  // namespace sluice::store
