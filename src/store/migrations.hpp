#pragma once
// The versioned schema. PRAGMA user_version holds the version applied; each
// migration runs in its own transaction, so a crash leaves the previous version.
// To change the schema, append a migration to the list in migrations.cpp —
// never edit one that has shipped.
#include "store/db.hpp"

namespace sluice::store {

// The version a fully migrated database has.
int schema_version_latest();
// Applies pending migrations; returns the version now in force. Throws DbError,
// also when the file was written by a newer Sluice (version above latest).
int migrate(Db& db);

}  // namespace sluice::store
