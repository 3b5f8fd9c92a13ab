#pragma once
// The control store: the database IAM, MQ and the audit log keep their tables
// in (today <data-dir>/sluice.db, SQLite in WAL mode, behind the store/db.hpp
// seam) and the master key that seals their secrets (<data-dir>/master.key or
// SLUICE_MASTER_KEY). Opening checks the key against a check value sealed in
// the database, so a wrong or missing key is a clear startup error rather than
// undecryptable secrets later. Each owner migrates its own tables
// (store/migrate.hpp) when its service is constructed.
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "store/changes.hpp"
#include "store/crypto.hpp"
#include "store/db.hpp"
#include "store/master_key.hpp"

namespace sluice::store {

struct StoreOptions {
  // The master key (base64 of 32 bytes). Unset: read SLUICE_MASTER_KEY if
  // `read_env`, else <data-dir>/master.key (created when the store is new).
  std::optional<std::string> master_key_b64;
  bool read_env = true;
  // The control store in PostgreSQL (libpq conninfo); empty: SQLite in the
  // data dir. open() goes to open_postgres() when it is set.
  std::string postgres;
  // PostgreSQL: the change feeds report "anything may have changed" this often
  // whatever they heard, a backstop for a lost notification (0: never).
  int64_t change_backstop_ms = 30000;
};

class Store {
 public:
  struct OpenResult {
    std::unique_ptr<Store> store;  // null on error
    std::string error;             // a message an operator can act on
  };
  // Creates the directory (0700) and the database when missing (SQLite), or
  // opens_postgres(opts.postgres, data_dir, opts) when opts.postgres is set.
  static OpenResult open(const std::string& data_dir, const StoreOptions& opts = {});
  // The control store in PostgreSQL (libpq conninfo: "host=... dbname=..." or a
  // postgresql:// URI), shared by every node given the same one. `data_dir` is
  // only where master.key is read (or created, for a new store) when
  // SLUICE_MASTER_KEY is not set: every node needs the same key. Unreachable,
  // or holding secrets sealed under another key: an error an operator can act
  // on (the conninfo in it has no password).
  static OpenResult open_postgres(const std::string& conninfo, const std::string& data_dir,
                                  const StoreOptions& opts = {});

  // The single connection. Callers serialize access with mutex(): a
  // connection is not for concurrent use by several threads at once.
  Db& db() { return *db_; }
  std::mutex& mutex() { return mu_; }
  const SecretBox& box() const { return *box_; }
  const std::string& data_dir() const { return data_dir_; }
  KeySource key_source() const { return key_source_; }
  // Where the store lives, for messages: the SQLite file, or the PostgreSQL
  // conninfo without its password.
  const std::string& where() const { return db_->path(); }
  Dialect dialect() const { return db_->dialect(); }
  // Another connection to the same store, for work that should not wait for
  // the store mutex (the API's shared nonces). Throws DbError.
  std::unique_ptr<Db> connect() const;
  // Another writer's commits to `channel`'s state (store/changes.hpp). Call
  // with mutex() held, after the owner's migrations.
  std::unique_ptr<ChangeFeed> changes(std::string channel) { return db_->watch(std::move(channel), mu_); }

 private:
  Store() = default;
  // The master key check shared by open() and open_postgres().
  static std::string check_master_key(Store& s, const std::string& data_dir, const StoreOptions& opts);
  std::string data_dir_;
  std::string conninfo_;  // PostgreSQL's (with its password: never printed); empty for SQLite
  std::unique_ptr<Db> db_;
  std::unique_ptr<SecretBox> box_;
  KeySource key_source_ = KeySource::File;
  std::mutex mu_;
};

}  // namespace sluice::store
