#pragma once
// A small blocking HTTP/1.1 client for the webhook target: one keep-alive
// connection to one host, POST only, with connect and I/O timeouts. It runs on
// a rule's worker thread, never on a broker thread.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sluice::rules {

struct HttpResult {
  int status = 0;     // 0: no answer (connection refused, timeout, bad response)
  std::string error;  // why, when status is 0
};

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port, int timeout_ms);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult post(const std::string& path, const std::vector<std::pair<std::string, std::string>>& headers,
                  const std::string& body);

 private:
  bool connect_once(std::string& error);
  void close_fd();
  bool send_all(const std::string& data);
  // Reads one response; false (with error) on a timeout or a malformed answer.
  bool read_response(int& status, bool& keep_alive, std::string& error);

  std::string host_;
  uint16_t port_;
  int timeout_ms_;
  int fd_ = -1;
  std::string buf_;
};

// Splits "http://host[:port][/path]" (checked by mq: well-formed).
struct UrlParts {
  std::string host, path;
  uint16_t port = 80;
};
UrlParts split_http_url(const std::string& url);

}  // namespace sluice::rules
