#include "common/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cctype>
#include <cstring>
#include <stdexcept>

namespace sluice::common {

namespace {
const unsigned char* u8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

const EVP_MD* fetched_md(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (!md) throw std::runtime_error(std::string("OpenSSL has no ") + name);
  return md;  // kept for the life of the process
}

EVP_MD_CTX* thread_digest_ctx() {
  struct Holder {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Holder() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Holder h;
  return h.ctx;
}

std::string hmac_with(const EVP_MD* md, std::string_view key, std::string_view data) {
  constexpr size_t kMaxBlock = 128;
  const size_t block = static_cast<size_t>(EVP_MD_get_block_size(md));
  const size_t size = static_cast<size_t>(EVP_MD_get_size(md));
  EVP_MD_CTX* ctx = thread_digest_ctx();
  unsigned char k[kMaxBlock] = {};
  unsigned char inner[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  auto digest = [&](const void* a, size_t alen, const void* b, size_t blen, unsigned char* out) {
    if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1 || EVP_DigestUpdate(ctx, a, alen) != 1 ||
        (blen && EVP_DigestUpdate(ctx, b, blen) != 1) || EVP_DigestFinal_ex(ctx, out, &n) != 1)
      throw std::runtime_error("digest failed");
  };
  if (key.size() > block) digest(key.data(), key.size(), nullptr, 0, k);  // long keys are hashed first
  else std::memcpy(k, key.data(), key.size());
  unsigned char pad[kMaxBlock];
  for (size_t i = 0; i < block; ++i) pad[i] = k[i] ^ 0x36;
  digest(pad, block, data.data(), data.size(), inner);
  for (size_t i = 0; i < block; ++i) pad[i] = k[i] ^ 0x5c;
  std::string out(size, '\0');
  digest(pad, block, inner, size, reinterpret_cast<unsigned char*>(out.data()));
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  return out;
}
}  // namespace

std::string sha256(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(u8(data), data.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

std::string sha256_hex(std::string_view data) { return hex(sha256(data)); }

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[c >> 4];
    out[2 * i + 1] = kDigits[c & 15];
  }
  return out;
}

std::string hmac_sha1(std::string_view key, std::string_view data) {
  static const EVP_MD* md = fetched_md("SHA1");
  return hmac_with(md, key, data);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  static const EVP_MD* md = fetched_md("SHA256");
  return hmac_with(md, key, data);
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), u8(bytes), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  if (text.size() % 4 != 0) return std::nullopt;
  for (char c : text)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) return std::nullopt;
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), u8(text), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

bool constant_time_equal(std::string_view given, std::string_view expected) {
  if (given.size() != expected.size()) {
    // Same work as a compare, so that the length does not show in the timing much.
    (void)CRYPTO_memcmp(expected.data(), expected.data(), expected.size());
    return false;
  }
  return CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

}  // namespace sluice::common
