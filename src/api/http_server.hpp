#pragma once
// A small HTTP/1.1 server (Boost.Beast behind this header) for the management
// API, the console and /metrics: keep-alive, request size limit, deadlines that
// trickled bytes do not extend, and a connection budget (in all and per client
// address, http_connections.hpp) so that nobody can hold it to themselves.
// Handlers run on the server's own thread pool, never on the MQTT loops.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sluice::api {

struct HttpRequest {
  std::string method;   // "GET"
  std::string target;   // "/path?query"
  std::string path;     // "/path"
  std::string query;    // "a=1&b=2" (raw)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string peer;     // client address
  const std::string* header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // An answer to HEAD: no body, and the Content-Length the GET's body would
  // have (RFC 9110 9.3.2), not 0.
  std::optional<size_t> head_length;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// The answer to one request whose handler does not give it at once (it waits on
// a round trip made for many requests together, nonce_ledger.hpp), so that an
// HTTP thread is not parked meanwhile. Copyable, usable from any thread; the
// first answer counts. Dropped unanswered (every copy gone), the request gets a
// 500 rather than no answer.
class HttpResponder {
 public:
  struct State;
  explicit HttpResponder(std::shared_ptr<State> s) : s_(std::move(s)) {}
  void operator()(HttpResponse r) const;  // answers now
  // Runs `work` on the request's connection (an HTTP thread, never the caller's)
  // and answers with what it returns (500 if it throws).
  void run(std::function<HttpResponse()> work) const;

 private:
  std::shared_ptr<State> s_;
};
using AsyncHttpHandler = std::function<void(const HttpRequest&, HttpResponder)>;

struct HttpOptions {
  std::string host = "0.0.0.0";
  int port = 8080;                 // 0: any free port
  unsigned threads = 1;
  size_t max_body = 1 << 20;       // bytes
  // Deadlines that trickled bytes do not extend (each is one timer, set once):
  unsigned idle_timeout_seconds = 30;    // open or kept alive, until a request's first byte
  unsigned header_timeout_seconds = 10;  // from a request's first byte to the end of its head
  unsigned timeout_seconds = 30;         // from a request's first byte to the end of its body; also
                                         // how long writing the response may take
  // Open connections, all told and per client address (0: no limit). Over the
  // per-address cap a connection gets 429 and is closed; at the total, the
  // connection that has waited longest for a request (idle, or sending one
  // slowly) is closed to make room, else the new one gets 503.
  uint32_t max_connections = 1024;
  uint32_t max_connections_per_source = 64;
};

class HttpServer {
 public:
  explicit HttpServer(HttpOptions opts);
  ~HttpServer();
  // Exact path match first, then the longest registered prefix ending in '/'.
  void route(const std::string& path, HttpHandler h);
  // The same, for a handler that answers later through its HttpResponder.
  void route_async(const std::string& path, AsyncHttpHandler h);
  // Called for a request refused before any handler saw it (oversized: 413
  // RequestEntityTooLarge, malformed: 400 BadRequest), so it can be audited.
  struct Refusal {
    std::string peer, request_id, code, target;  // target: empty when the head was not parsed
    int status = 0;
  };
  void on_refused(std::function<void(const Refusal&)> fn);
  void start();  // throws std::runtime_error if it cannot listen
  void stop();
  int port() const;
  uint32_t open_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::api
