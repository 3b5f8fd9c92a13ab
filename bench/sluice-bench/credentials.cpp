#include "credentials.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace sbench {

std::string client_id_for(const Options& opt, const std::string& base) { return opt.client_id_prefix + base; }

std::string password_for(const Options& opt, const std::string& client_id) {
  if (opt.sign_secret.empty()) return opt.password;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), opt.sign_secret.data(), static_cast<int>(opt.sign_secret.size()),
       reinterpret_cast<const unsigned char*>(client_id.data()), client_id.size(), mac, &len);
  unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(b64, mac, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(n));
}

}  // namespace sbench
