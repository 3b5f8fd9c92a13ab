#pragma once
// The master key that seals every secret at rest (store/crypto.hpp's SecretBox):
// from SLUICE_MASTER_KEY, or <data-dir>/master.key (created, mode 0600, only
// when the store holds no secrets yet).
#include <optional>
#include <string>

#include "store/crypto.hpp"

namespace sluice::store {

// Where the master key came from, for the startup log line.
enum class KeySource { Environment, File, Created };

struct MasterKey {
  Key256 key{};
  KeySource source = KeySource::File;
};

struct MasterKeyResult {
  std::optional<MasterKey> key;
  std::string error;  // set when !key
};

// Loads the master key: `env_value` (the SLUICE_MASTER_KEY value, base64 of 32
// bytes) wins; else `<data_dir>/master.key` (base64 text). When neither exists
// and `may_create` is true, a new key is written to master.key with mode 0600.
// `may_create` must be false when the store already holds secrets: a missing key
// is then an error, never a silent regeneration.
MasterKeyResult load_master_key(const std::string& data_dir, const std::optional<std::string>& env_value,
                                bool may_create);


}  // namespace sluice::store
