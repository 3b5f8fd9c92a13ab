#include "rules/http_client.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <strings.h>

namespace sluice::rules {

UrlParts split_http_url(const std::string& url) {
  UrlParts u;
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

HttpClient::HttpClient(std::string host, uint16_t port, int timeout_ms)
    : host_(std::move(host)), port_(port), timeout_ms_(timeout_ms) {}

HttpClient::~HttpClient() { close_fd(); }

void HttpClient::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

bool HttpClient::connect_once(std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(port_);
  if (int rc = ::getaddrinfo(host_.c_str(), port.c_str(), &hints, &res); rc != 0) {
    error = std::string("cannot resolve ") + host_ + ": " + gai_strerror(rc);
    return false;
  }
  error = "cannot connect to " + host_ + ":" + port;
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
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
  ::freeaddrinfo(res);
  return fd_ >= 0;
}

bool HttpClient::send_all(const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool HttpClient::read_response(int& status, bool& keep_alive, std::string& error) {
  char tmp[8192];
  auto fill = [&]() {
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  };
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (buf_.size() > 65536 || !fill()) {
      error = buf_.empty() ? "no response (timeout or connection closed)" : "malformed response";
      return false;
    }
  }
  const std::string head = buf_.substr(0, end);
  buf_.erase(0, end + 4);
  // "HTTP/1.1 204 No Content"
  if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) {
    error = "malformed status line";
    return false;
  }
  status = std::atoi(head.c_str() + head.find(' ') + 1);
  keep_alive = head.compare(0, 8, "HTTP/1.1") == 0;
  long long length = -1;
  bool chunked = false;
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos) {
    const size_t next = head.find("\r\n", pos + 2);
    const std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    pos = next;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon), value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (strcasecmp(name.c_str(), "content-length") == 0) length = std::atoll(value.c_str());
    else if (strcasecmp(name.c_str(), "transfer-encoding") == 0) chunked = strcasestr(value.c_str(), "chunked");
    else if (strcasecmp(name.c_str(), "connection") == 0) keep_alive = strcasestr(value.c_str(), "keep-alive") != nullptr;
  }
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

HttpResult HttpClient::post(const std::string& path, const std::vector<std::pair<std::string, std::string>>& headers,
                            const std::string& body) {
  std::string req = "POST " + path + " HTTP/1.1\r\nHost: " + host_ + ":" + std::to_string(port_) +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: keep-alive\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  req += body;
  HttpResult r;
  // A kept-alive connection the server has closed meanwhile fails at once: one fresh try.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = fd_ >= 0;
    if (fd_ < 0 && !connect_once(r.error)) return r;
    bool keep = false;
    int status = 0;
    if (send_all(req) && read_response(status, keep, r.error)) {
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
