#include "store/crypto.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace sluice::store {

namespace {
constexpr uint8_t kVersion = 1;
constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const unsigned char* u8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
}  // namespace

SecretBox::~SecretBox() { OPENSSL_cleanse(key_.data(), key_.size()); }

std::string SecretBox::seal(std::string_view plaintext, std::string_view aad) const {
  std::string nonce = random_bytes(kNonce);
  std::string out;
  out.resize(1 + kNonce + plaintext.size() + kTag);
  out[0] = static_cast<char>(kVersion);
  std::memcpy(out.data() + 1, nonce.data(), kNonce);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* ct = reinterpret_cast<unsigned char*>(out.data() + 1 + kNonce);
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), u8(nonce)) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), ct, &len, u8(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, ct + plaintext.size()) != 1) {
    std::abort();  // only on allocation failure inside OpenSSL
  }
  return out;
}

std::optional<std::string> SecretBox::open(std::string_view sealed, std::string_view aad) const {
  if (sealed.size() < 1 + kNonce + kTag || static_cast<uint8_t>(sealed[0]) != kVersion) return std::nullopt;
  std::string_view nonce = sealed.substr(1, kNonce);
  std::string_view ct = sealed.substr(1 + kNonce, sealed.size() - 1 - kNonce - kTag);
  std::string tag(sealed.substr(sealed.size() - kTag));
  std::string out(ct.size(), '\0');
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* pt = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), u8(nonce)) != 1) return std::nullopt;
  if (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1)
    return std::nullopt;
  if (EVP_DecryptUpdate(ctx.get(), pt, &len, u8(ct), static_cast<int>(ct.size())) != 1) return std::nullopt;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1) return std::nullopt;
  if (EVP_DecryptFinal_ex(ctx.get(), pt + len, &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  return out;
}

std::string random_bytes(size_t n) {
  std::string s(n, '\0');
  if (n && RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n)) != 1) std::abort();
  return s;
}

std::string random_string(size_t n, std::string_view alphabet) {
  std::string out;
  out.reserve(n);
  const size_t m = alphabet.size();
  const size_t limit = 256 - (256 % m);  // reject bytes that would bias the modulo
  while (out.size() < n) {
    std::string buf = random_bytes(n * 2);
    for (unsigned char c : buf) {
      if (c < limit) out.push_back(alphabet[c % m]);
      if (out.size() == n) break;
    }
  }
  return out;
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

std::string sha256_hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(u8(data), data.size(), md);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : md) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

namespace {
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

std::string hmac_sha1(std::string_view key, std::string_view data) {
  static const EVP_MD* md = fetched_md("SHA1");
  return hmac_with(md, key, data);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  static const EVP_MD* md = fetched_md("SHA256");
  return hmac_with(md, key, data);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {
std::optional<Key256> decode_key(std::string_view b64) {
  auto raw = base64_decode(b64);
  if (!raw || raw->size() != 32) return std::nullopt;
  Key256 k;
  std::memcpy(k.data(), raw->data(), 32);
  OPENSSL_cleanse(raw->data(), raw->size());
  return k;
}
}  // namespace

MasterKeyResult load_master_key(const std::string& data_dir, const std::optional<std::string>& env_value,
                                bool may_create) {
  MasterKeyResult r;
  if (env_value) {
    auto k = decode_key(*env_value);
    if (!k) {
      r.error = "SLUICE_MASTER_KEY is not the base64 encoding of 32 bytes (generate one with: openssl rand -base64 32)";
      return r;
    }
    r.key = MasterKey{*k, KeySource::Environment};
    return r;
  }
  const std::string path = data_dir + "/master.key";
  std::ifstream in(path);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    auto k = decode_key(ss.str());
    if (!k) {
      r.error = "master key file " + path + " is not the base64 encoding of 32 bytes";
      return r;
    }
    r.key = MasterKey{*k, KeySource::File};
    return r;
  }
  if (!may_create) {
    r.error = "master key missing: " + path +
              " does not exist and SLUICE_MASTER_KEY is not set, but the store already holds secrets encrypted "
              "with a master key. Restore the original master.key (or set SLUICE_MASTER_KEY); a new key cannot "
              "decrypt them, so none is generated.";
    return r;
  }
  std::string raw = random_bytes(32);
  std::string text = base64_encode(raw) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    r.error = "cannot create master key file " + path + ": " + std::strerror(errno);
    return r;
  }
  ::fchmod(fd, 0600);  // regardless of umask
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    r.error = "cannot write master key file " + path + ": " + std::strerror(errno);
    return r;
  }
  Key256 k;
  std::memcpy(k.data(), raw.data(), 32);
  OPENSSL_cleanse(raw.data(), raw.size());
  OPENSSL_cleanse(text.data(), text.size());
  r.key = MasterKey{k, KeySource::Created};
  return r;
}

}  // namespace sluice::store
