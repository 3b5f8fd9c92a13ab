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

void ensure_meta(Db& db) {
  db.exec("CREATE TABLE IF NOT EXISTS meta (\n  key   TEXT PRIMARY KEY,\n  value BLOB NOT NULL\n)");
}

int latest_version(const Schema& s) { return s.steps.empty() ? 0 : s.steps.back().version; }

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
  ensure_meta(db);  // owners' steps may keep counters in it (IAM's iam_version)
  int v = applied_version(db, s);
  const int latest = latest_version(s);
  if (v > latest)
    throw DbError("database " + db.path() + " has " + s.owner + " schema version " + std::to_string(v) +
                  ", newer than this Sluice understands (" + std::to_string(latest) +
                  "); run a newer Sluice or restore a backup");
  for (const auto& m : s.steps) {
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
