#include "mq/portable_identity.hpp"

#include <charconv>

namespace sluice::mq {

namespace {
constexpr std::string_view kVersion = "1";
}

std::string encode_identity(const ClientFacts& f, const PortableCredential& c) {
  std::string out;
  put_field(out, kVersion);
  put_field(out, c.mode);
  put_field(out, c.data);
  for (const std::string* s : {&f.instance_id, &f.account_id, &f.client_id, &f.group_id, &f.key_id, &f.peer,
                               &f.channel, &f.cert_ca_sn, &f.cert_sn})
    put_field(out, *s);
  put_field(out, f.secure ? "1" : "0");
  return out;
}

bool decode_identity(std::string_view s, ClientFacts& f, PortableCredential& c) {
  std::string_view v, mode, data, secure;
  if (!take_field(s, v) || v != kVersion || !take_field(s, mode) || !take_field(s, data)) return false;
  c.mode = mode;
  c.data = data;
  for (std::string* out : {&f.instance_id, &f.account_id, &f.client_id, &f.group_id, &f.key_id, &f.peer, &f.channel,
                           &f.cert_ca_sn, &f.cert_sn}) {
    std::string_view x;
    if (!take_field(s, x)) return false;
    out->assign(x);
  }
  if (!take_field(s, secure) || !s.empty()) return false;
  f.secure = secure == "1";
  return true;
}

}  // namespace sluice::mq
