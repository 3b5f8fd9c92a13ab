#include "conn_setup.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "credentials.hpp"

namespace sbench {
namespace mq = sluice::mqtt;

SourceRotation::SourceRotation(const Options& opt) : per_(std::max(1, opt.per_source)) {
  sockaddr_in dst;
  make_addr(opt.host, opt.port, dst);
  // Only for a loopback target: elsewhere 127.x could not reach it.
  loopback_ = (ntohl(dst.sin_addr.s_addr) >> 24) == 127;
}

const sockaddr_in* SourceRotation::next(uint64_t n) {
  if (!loopback_) return nullptr;
  uint32_t host = 2 + uint32_t((n / uint64_t(per_)) % 253);  // 127.0.0.2 .. 127.0.0.254
  std::memset(&src_, 0, sizeof src_);
  src_.sin_family = AF_INET;
  src_.sin_addr.s_addr = htonl((127u << 24) | host);
  return &src_;
}

mq::Version version_of(const Options& opt) { return opt.protocol == 5 ? mq::Version::V5 : mq::Version::V3_1_1; }

void send_connect(const Options& opt, Connection& c, const std::string& client_id) {
  c.parser().as_client().set_version(version_of(opt));
  std::string& out = c.out();
  mq::Connect ct;
  ct.version = version_of(opt);
  ct.clean_start = true;
  ct.keep_alive = opt.keepalive;
  const std::string id = client_id_for(opt, client_id);
  const std::string password = password_for(opt, id);
  ct.client_id = id;
  if (!opt.username.empty()) ct.username = opt.username;
  if (!password.empty()) ct.password = password;
  mq::encode(ct, out);
}

}  // namespace sbench
