#include "store/password.hpp"

#include <argon2.h>

#include <cstdlib>

#include "store/crypto.hpp"

namespace sluice::store {

std::string hash_password(std::string_view password, const Argon2Params& p) {
  constexpr size_t kSalt = 16, kHash = 32;
  std::string salt = random_bytes(kSalt);
  size_t len = argon2_encodedlen(p.t_cost, p.m_cost_kib, p.parallelism, kSalt, kHash, Argon2_id);
  std::string out(len, '\0');
  int rc = argon2id_hash_encoded(p.t_cost, p.m_cost_kib, p.parallelism, password.data(), password.size(),
                                 salt.data(), kSalt, kHash, out.data(), len);
  if (rc != ARGON2_OK) std::abort();
  out.resize(out.find('\0') == std::string::npos ? out.size() : out.find('\0'));
  return out;
}

bool verify_password(std::string_view encoded, std::string_view password) {
  if (encoded.substr(0, 10) != "$argon2id$") return false;
  std::string enc(encoded);  // needs a NUL-terminated string
  return argon2id_verify(enc.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace sluice::store
