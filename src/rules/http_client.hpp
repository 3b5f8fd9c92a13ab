#pragma once
// A small blocking HTTP/1.1 client for the webhook target: one keep-alive
// connection to one host, POST only, with connect and I/O timeouts, over TCP
// or TLS (https: the server's certificate verified against the system's CAs,
// or against the CA the rule names, and its name against the URL's host). It
// runs on a rule's worker thread, never on a broker thread.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct ssl_ctx_st;
struct ssl_st;

namespace sluice::rules {

struct HttpResult {
  int status = 0;     // 0: no answer (connection refused, timeout, TLS refused, bad response)
  std::string error;  // why, when status is 0
};

// Splits "http[s]://host[:port][/path]" (checked by mq: well-formed).
struct UrlParts {
  std::string host, path;
  uint16_t port = 80;
  bool tls = false;
};
UrlParts split_http_url(const std::string& url);

class HttpClient {
 public:
  // `ca_pem`: for https, the CA certificate(s) (PEM) the server's chain must
  // end at; empty: the system's trusted CAs.
  HttpClient(UrlParts url, const std::string& ca_pem, int timeout_ms);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult post(const std::string& path, const std::vector<std::pair<std::string, std::string>>& headers,
                  const std::string& body);

 private:
  bool connect_once(std::string& error);
  bool tls_handshake(std::string& error);
  void close_fd();
  bool send_all(const std::string& data);
  long recv_some(char* buf, size_t n);
  // Reads one response; false (with error) on a timeout or a malformed answer.
  bool read_response(int& status, bool& keep_alive, std::string& error);

  UrlParts url_;
  int timeout_ms_;
  std::string ctx_error_;      // why the TLS context could not be made (a bad CaCert)
  ssl_ctx_st* ctx_ = nullptr;  // https only
  ssl_st* ssl_ = nullptr;
  int fd_ = -1;
  std::string buf_;
};

}  // namespace sluice::rules
