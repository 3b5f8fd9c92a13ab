#pragma once
// Console passwords: Argon2id (libargon2), stored in the PHC encoded form
// "$argon2id$v=19$m=...,t=...,p=...$salt$hash" so parameters can change later.
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::store {

struct Argon2Params {
  uint32_t t_cost = 2;         // iterations
  uint32_t m_cost_kib = 19456; // 19 MiB (OWASP's Argon2id minimum)
  uint32_t parallelism = 1;
};

// Never fails except on allocation failure (aborts).
std::string hash_password(std::string_view password, const Argon2Params& p = {});
// Constant-time verification; false for a wrong password or a malformed hash.
bool verify_password(std::string_view encoded, std::string_view password);

}  // namespace sluice::store
