#pragma once
// Secrets at rest: AES-256-GCM (OpenSSL EVP) under a 32-byte master key, plus
// the random and base64 helpers the identity layer uses to mint ids and secrets.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::store {

using Key256 = std::array<uint8_t, 32>;

// Sealed form: 0x01 | nonce(12) | ciphertext | tag(16). `aad` (e.g. the access
// key id) is authenticated but not stored, so a sealed secret cannot be moved
// to another row.
class SecretBox {
 public:
  explicit SecretBox(const Key256& key) : key_(key) {}
  ~SecretBox();
  std::string seal(std::string_view plaintext, std::string_view aad = {}) const;
  // nullopt if the blob was not sealed by this key (or was altered, or aad differs).
  std::optional<std::string> open(std::string_view sealed, std::string_view aad = {}) const;

 private:
  Key256 key_;
};

// Cryptographically secure random bytes (RAND_bytes); aborts if the RNG fails.
std::string random_bytes(size_t n);
// Uniform random strings over an alphabet (rejection sampling, no modulo bias).
std::string random_string(size_t n, std::string_view alphabet);
inline constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
inline constexpr std::string_view kDigits = "0123456789";
inline constexpr std::string_view kLowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);  // strict; ignores trailing whitespace
std::string sha256_hex(std::string_view data);
// HMAC (RFC 2104) over digests fetched once per process, with a per-thread
// digest context: OpenSSL 3's one-shot HMAC() fetches the algorithm and
// allocates on every call, ~20,000 instructions for a 40-byte message, which
// was most of the cost of a Signature-mode CONNECT. Raw MAC bytes.
std::string hmac_sha1(std::string_view key, std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);
bool constant_time_equal(std::string_view a, std::string_view b);

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
