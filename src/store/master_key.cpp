#include "store/master_key.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sluice::store {

namespace {
std::optional<Key256> decode_key(std::string_view b64) {
  auto raw = common::base64_decode(b64);
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
  std::string text = common::base64_encode(raw) + "\n";
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
