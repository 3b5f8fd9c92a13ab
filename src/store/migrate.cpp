#include "store/migrate.hpp"

#include <charconv>

namespace sluice::store {

namespace {
bool in_user_version(Db& db, const Schema& s) { return s.sqlite_user_version && db.dialect() == Dialect::Sqlite; }

void record(Db& db, const Schema& s, int version) {
  if (in_user_version(db, s)) {
    db.exec("PRAGMA user_version = " + std::to_string(version));
    return;
  }
  // Text, as the first runners wrote it.
  db.run("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
         s.version_key, std::to_string(version));
}
}  // namespace

// Any number, the same on every node: the lock migrations take on PostgreSQL.
constexpr const char* kSchemaLockKey = "5183300016";

SchemaLock::SchemaLock(Db& db) : db_(db) {
  if (db.dialect() != Dialect::Postgres) return;
  db.exec(std::string("SELECT pg_advisory_lock(") + kSchemaLockKey + ")");
  held_ = true;
}
SchemaLock::~SchemaLock() {
  if (!held_) return;
  try {
    db_.exec(std::string("SELECT pg_advisory_unlock(") + kSchemaLockKey + ")");
  } catch (...) {
    // A lost connection took the lock with it.
  }
}

void ensure_meta(Db& db) {
  if (db.dialect() == Dialect::Postgres)
    db.exec("CREATE TABLE IF NOT EXISTS meta (\n  key   TEXT PRIMARY KEY,\n  value TEXT NOT NULL\n)");
  else
    db.exec("CREATE TABLE IF NOT EXISTS meta (\n  key   TEXT PRIMARY KEY,\n  value BLOB NOT NULL\n)");
}

int latest_version(const Schema& s, Dialect d) {
  auto steps = s.steps_for(d);
  return steps.empty() ? 0 : steps.back().version;
}
int latest_version(const Schema& s) { return latest_version(s, Dialect::Sqlite); }

int applied_version(Db& db, const Schema& s) {
  if (in_user_version(db, s)) {
    auto q = db.prepare("PRAGMA user_version");
    q.step();
    return static_cast<int>(q.int64(0));
  }
  ensure_meta(db);
  auto q = db.query("SELECT value FROM meta WHERE key = ?", s.version_key);
  if (!q.step()) return 0;
  const std::string text = q.text(0);
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0)
    throw DbError("database " + db.path() + ": the " + s.owner + " schema version \"" + text + "\" in meta." +
                  s.version_key + " is not a version number");
  return v;
}

int migrate(Db& db, const Schema& s) {
  const auto steps = s.steps_for(db.dialect());
  if (steps.empty() && !s.steps.empty())
    throw DbError(std::string("the ") + s.owner + " tables have no PostgreSQL schema in this Sluice");
  SchemaLock lock(db);  // nodes starting together: one migrates, the others then find it done
  ensure_meta(db);      // owners' steps may keep counters in it (IAM's iam_version)
  int v = applied_version(db, s);
  const int latest = latest_version(s, db.dialect());
  if (v > latest)
    throw DbError("database " + db.path() + " has " + s.owner + " schema version " + std::to_string(v) +
                  ", newer than this Sluice understands (" + std::to_string(latest) +
                  "); run a newer Sluice or restore a backup");
  for (const auto& m : steps) {
    if (m.version <= v) continue;
    Transaction tx(db);
    db.exec(m.sql);
    record(db, s, m.version);
    tx.commit();
    v = m.version;
  }
  return v;
}

}  // namespace sluice::store
