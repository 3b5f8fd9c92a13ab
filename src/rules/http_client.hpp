#pragma once
// A small blocking HTTP/1.1 client for the webhook target: one keep-alive
// connection to one host, POST only, with connect and I/O timeouts, over TCP
// or TLS (https: the server's certificate verified against the system's CAs,
// or against the CA the rule names, and its name against the URL's host). It
// runs on a rule's worker thread, never on a broker thread.
#include <cstdint>
#include <string>
#include <string_view>
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

  // `head`: the request's own header lines, each "Name: value\r\n" (Host,
  // Content-Length and Connection are added here).
  HttpResult post(std::string_view path, std::string_view head, std::string_view body);

 private:
  bool connect_once(std::string& error);
  bool tls_handshake(std::string& error);
  void close_fd();
  // The request's head, then its body: one sendmsg over TCP (the body is not
  // copied behind the head), one TLS write of both over TLS.
  bool send_request(std::string_view body);
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
  std::string req_;        // the request being sent (its capacity reused)
  std::string host_line_;  // "Host: host:port\r\n", made once
};

}  // namespace sluice::rules
