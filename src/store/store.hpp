#pragma once
// The data directory: <data-dir>/sluice.db (SQLite, WAL) and the master key
// (<data-dir>/master.key or SLUICE_MASTER_KEY). Opening checks the key against
// a check value sealed in the database, so a wrong or missing key is a clear
// startup error rather than undecryptable secrets later.
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "store/crypto.hpp"
#include "store/db.hpp"
#include "store/master_key.hpp"

namespace sluice::store {

struct StoreOptions {
  // The master key (base64 of 32 bytes). Unset: read SLUICE_MASTER_KEY if
  // `read_env`, else <data-dir>/master.key (created when the store is new).
  std::optional<std::string> master_key_b64;
  bool read_env = true;
};

class Store {
 public:
  struct OpenResult {
    std::unique_ptr<Store> store;  // null on error
    std::string error;             // a message an operator can act on
  };
  // Creates the directory (0700) and the database when missing, migrates the schema.
  static OpenResult open(const std::string& data_dir, const StoreOptions& opts = {});

  // The single connection. Callers serialize access with mutex(): SQLite
  // connections are not for concurrent use by several threads at once.
  Db& db() { return *db_; }
  std::mutex& mutex() { return mu_; }
  const SecretBox& box() const { return *box_; }
  const std::string& data_dir() const { return data_dir_; }
  KeySource key_source() const { return key_source_; }
  int schema_version() const { return schema_version_; }
  // Bumped (by triggers) on every change to an identity table, from any connection.
  // Call with mutex() held.
  int64_t iam_version();

 private:
  Store() = default;
  std::string data_dir_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<SecretBox> box_;
  KeySource key_source_ = KeySource::File;
  int schema_version_ = 0;
  std::mutex mu_;
};

}  // namespace sluice::store
