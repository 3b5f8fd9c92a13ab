#include "rules/http_client.hpp"

#include "common/egress.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <strings.h>

namespace sluice::rules {

UrlParts split_http_url(const std::string& url) {
  UrlParts u;
  u.tls = url.compare(0, 8, "https://") == 0;
  u.port = u.tls ? 443 : 80;
  std::string rest = url.substr(url.find("://") + 3);
  const size_t slash = rest.find('/');
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string hostport = rest.substr(0, slash);
  if (auto at = hostport.rfind('@'); at != std::string::npos) hostport = hostport.substr(at + 1);
  const size_t colon = hostport.rfind(':');
  if (colon != std::string::npos && hostport.find(']') == std::string::npos) {
    u.host = hostport.substr(0, colon);
    u.port = static_cast<uint16_t>(std::stoi(hostport.substr(colon + 1)));
  } else {
    u.host = hostport;
  }
  if (u.host.size() > 2 && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);
  return u;
}

namespace {
std::string ssl_error(const char* what) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  char buf[256];
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  return std::string(what) + (e ? std::string(": ") + buf : std::string());
}
}  // namespace

HttpClient::HttpClient(UrlParts url, const std::string& ca_pem, int timeout_ms)
    : url_(std::move(url)), timeout_ms_(timeout_ms) {
  host_line_ = "Host: " + url_.host + ":" + std::to_string(url_.port) + "\r\n";
  if (!url_.tls) return;
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (!ctx_) {
    ctx_error_ = ssl_error("TLS context");
    return;
  }
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  if (ca_pem.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx_) != 1) ctx_error_ = ssl_error("the system's CA certificates");
    return;
  }
  // The rule's own CA(s): the only trust anchors for this target.
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
  int added = 0;
  while (X509* c = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, c) == 1) ++added;
    X509_free(c);
  }
  BIO_free(bio);
  ERR_clear_error();  // the end of the PEM text reads as an error
  if (added == 0) ctx_error_ = "the rule's CaCert holds no PEM certificate";
}

HttpClient::~HttpClient() {
  close_fd();
  if (ctx_) SSL_CTX_free(ctx_);
}

void HttpClient::close_fd() {
  if (ssl_) SSL_free(ssl_);
  ssl_ = nullptr;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

bool HttpClient::tls_handshake(std::string& error) {
  if (!ctx_ || !ctx_error_.empty()) {
    error = ctx_error_.empty() ? "no TLS context" : ctx_error_;
    return false;
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  // The certificate must name the URL's host: an IP address, or a DNS name (also sent as SNI).
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str()) != 1) {
    X509_VERIFY_PARAM_set1_host(param, url_.host.c_str(), url_.host.size());
    SSL_set_tlsext_host_name(ssl_, url_.host.c_str());
  }
  ERR_clear_error();
  if (SSL_connect(ssl_) != 1) {
    const long v = SSL_get_verify_result(ssl_);
    error = v != X509_V_OK ? std::string("TLS: the server's certificate is not trusted (") +
                                 X509_verify_cert_error_string(v) + ")"
                           : ssl_error("TLS handshake");
    return false;
  }
  return true;
}

bool HttpClient::connect_once(std::string& error) {
  // Only to addresses a tenant's rule may reach (common/egress.hpp), checked
  // on every connection: a name that resolves elsewhere later is refused too.
  const std::string port = std::to_string(url_.port);
  const std::vector<common::EgressAddress> addrs = common::egress_policy().resolve(url_.host, url_.port, error);
  if (addrs.empty()) return false;
  error = "cannot connect to " + url_.host + ":" + port;
  for (const auto& a : addrs) {
    int fd = ::socket(a.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) continue;
    int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, timeout_ms_) == 1 ? 0 : -1;
      int soerr = 0;
      socklen_t len = sizeof soerr;
      if (rc == 0 && (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0)) rc = -1;
      if (rc != 0 && soerr) error += std::string(": ") + std::strerror(soerr);
    }
    if (rc == 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fd_ = fd;
      break;
    }
    ::close(fd);
  }
  if (fd_ < 0) return false;
  if (url_.tls && !tls_handshake(error)) {
    close_fd();
    return false;
  }
  error.clear();
  return true;
}

bool HttpClient::send_request(std::string_view body) {
  if (ssl_) {
    req_.append(body);
    size_t off = 0;
    while (off < req_.size()) {
      size_t w = 0;
      if (SSL_write_ex(ssl_, req_.data() + off, req_.size() - off, &w) != 1) return false;
      off += w;
    }
    return true;
  }
  iovec v[2] = {{req_.data(), req_.size()}, {const_cast<char*>(body.data()), body.size()}};
  msghdr msg{};
  msg.msg_iov = v;
  msg.msg_iovlen = body.empty() ? 1 : 2;
  while (msg.msg_iovlen > 0) {
    const ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n <= 0) return false;
    auto left = static_cast<size_t>(n);
    while (msg.msg_iovlen > 0 && left >= msg.msg_iov[0].iov_len) {
      left -= msg.msg_iov[0].iov_len;
      ++msg.msg_iov;
      --msg.msg_iovlen;
    }
    if (msg.msg_iovlen > 0) {
      msg.msg_iov[0].iov_base = static_cast<char*>(msg.msg_iov[0].iov_base) + left;
      msg.msg_iov[0].iov_len -= left;
    }
  }
  return true;
}

long HttpClient::recv_some(char* buf, size_t n) {
  if (!ssl_) return ::recv(fd_, buf, n, 0);
  size_t r = 0;
  return SSL_read_ex(ssl_, buf, n, &r) == 1 ? static_cast<long>(r) : -1;
}

namespace {
bool name_is(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}
bool contains_nocase(std::string_view s, std::string_view what) {
  for (size_t i = 0; i + what.size() <= s.size(); ++i)
    if (strncasecmp(s.data() + i, what.data(), what.size()) == 0) return true;
  return false;
}
}  // namespace

bool HttpClient::read_response(int& status, bool& keep_alive, std::string& error) {
  // Received on the stack, then appended: growing buf_ by 8 KB to receive
  // into it zeroed those 8 KB per response (~1,000 instructions per POST for a
  // ~100-byte answer, callgrind).
  auto fill = [&]() {
    char chunk[8192];
    const long n = recv_some(chunk, sizeof chunk);
    if (n > 0) buf_.append(chunk, static_cast<size_t>(n));
    return n > 0;
  };
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (buf_.size() > 65536 || !fill()) {
      error = buf_.empty() ? "no response (timeout or connection closed)" : "malformed response";
      return false;
    }
  }
  // The head is read in place (views into buf_), then dropped from it.
  const std::string_view head(buf_.data(), end);
  // "HTTP/1.1 204 No Content"
  if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) {
    error = "malformed status line";
    return false;
  }
  const size_t sp = head.find(' ');
  status = 0;
  for (size_t i = sp + 1; i < head.size() && i < sp + 4 && head[i] >= '0' && head[i] <= '9'; ++i)
    status = status * 10 + (head[i] - '0');
  keep_alive = head.compare(0, 8, "HTTP/1.1") == 0;
  long long length = -1;
  bool chunked = false;
  size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos) {
    const size_t next = head.find("\r\n", pos + 2);
    const std::string_view line = head.substr(pos + 2, next == std::string_view::npos ? std::string_view::npos : next - pos - 2);
    pos = next;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (name_is(name, "content-length")) {
      length = 0;
      for (char c : value) {
        if (c < '0' || c > '9') break;
        length = length * 10 + (c - '0');
        if (length > (1LL << 40)) break;
      }
    } else if (name_is(name, "transfer-encoding")) {
      chunked = contains_nocase(value, "chunked");
    } else if (name_is(name, "connection")) {
      keep_alive = contains_nocase(value, "keep-alive");
    }
  }
  buf_.erase(0, end + 4);
  if (chunked) {  // the body is not needed: read up to the last chunk, then drop the connection
    while (buf_.find("0\r\n\r\n") == std::string::npos)
      if (buf_.size() > (1 << 20) || !fill()) break;
    keep_alive = false;
  } else if (length >= 0) {
    while (static_cast<long long>(buf_.size()) < length)
      if (!fill()) {
        error = "response body cut short";
        return false;
      }
    buf_.erase(0, static_cast<size_t>(length));
  } else {
    keep_alive = false;  // body until close: not needed
  }
  return true;
}

HttpResult HttpClient::post(std::string_view path, std::string_view head, std::string_view body) {
  char digits[24];
  req_.assign("POST ").append(path).append(" HTTP/1.1\r\n").append(host_line_).append("Content-Length: ");
  req_.append(digits, std::to_chars(digits, digits + sizeof digits, body.size()).ptr);
  req_.append("\r\nConnection: keep-alive\r\n").append(head).append("\r\n");
  const size_t head_size = req_.size();
  HttpResult r;
  // A kept-alive connection the server has closed meanwhile fails at once: one fresh try.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = fd_ >= 0;
    if (fd_ < 0 && !connect_once(r.error)) return r;
    bool keep = false;
    int status = 0;
    req_.resize(head_size);  // a TLS try appended the body
    if (send_request(body) && read_response(status, keep, r.error)) {
      r.status = status;
      r.error.clear();
      if (!keep) close_fd();
      return r;
    }
    close_fd();
    if (!reused) break;
  }
  if (r.error.empty()) r.error = "connection lost";
  return r;
}

}  // namespace sluice::rules
