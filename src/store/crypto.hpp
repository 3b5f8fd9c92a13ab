#pragma once
// Secrets at rest: AES-256-GCM (OpenSSL EVP) under a 32-byte master key, plus
// the random helpers the identity layer uses to mint ids and secrets. The master
// key itself: store/master_key.hpp.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/crypto.hpp"

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

// The digests and encodings live in src/common, one implementation for every
// layer; these names keep the store's older spelling working at its call sites.
using common::base64_decode;
using common::base64_encode;
using common::constant_time_equal;
using common::hmac_sha1;
using common::hmac_sha256;
using common::sha256_hex;

}  // namespace sluice::store
