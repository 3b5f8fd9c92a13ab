#include "api/http_server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <list>
#include <mutex>
#include <thread>

#include "api/http_connections.hpp"
#include "api/rpc.hpp"
#include "common/log.hpp"

namespace sluice::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return &v;
  return nullptr;
}

namespace {

using Clock = std::chrono::steady_clock;

// Errors of the HTTP parser (a malformed or oversized request) are answered;
// anything else (a reset, an aborted read) ends the connection quietly.
bool is_http_error(const beast::error_code& ec) {
  return ec.category() == beast::http::make_error_code(http::error::bad_method).category();
}

// What the per-address cap counts by: the address bytes, an IPv4-mapped IPv6
// address as the IPv4 one.
std::string source_of(asio::ip::address a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }
  auto b = a.to_v6().to_bytes();
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// A connection refused at accept gets a short answer in the cloud's error shape
// (best effort: one non-blocking send on a fresh socket) and is closed.
void refuse_connection(tcp::socket& s, int status, const char* reason, const std::string& code,
                       const std::string& message) {
  const std::string body = R"({"RequestId":")" + new_request_id() + R"(","HostId":"sluice","Code":")" + code +
                           R"(","Message":")" + message + "\"}";
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                  "\r\nServer: sluice\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
                  "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  [[maybe_unused]] auto n = ::send(s.native_handle(), r.data(), r.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  beast::error_code ignored;
  s.shutdown(tcp::socket::shutdown_send, ignored);
  s.close(ignored);
}

}  // namespace

struct HttpResponder::State {
  virtual ~State() = default;
  // Once: posts `work` to the connection's strand, which answers with its result.
  virtual void answer(std::function<HttpResponse()> work) = 0;
  std::atomic<bool> answered{false};
};

void HttpResponder::operator()(HttpResponse r) const {
  if (!s_->answered.exchange(true)) s_->answer([r = std::move(r)]() mutable { return std::move(r); });
}

void HttpResponder::run(std::function<HttpResponse()> work) const {
  if (!s_->answered.exchange(true)) s_->answer(std::move(work));
}

struct HttpServer::Impl {
  HttpOptions opts;
  struct Route {
    HttpHandler sync;
    AsyncHttpHandler async;  // set instead of `sync` by route_async
  };
  std::map<std::string, Route> routes;
  std::vector<std::thread> threads;
  int port = 0;
  std::function<void(const HttpServer::Refusal&)> refused;  // set before start()
  const std::function<void(const HttpServer::Refusal&)>& refused_fn() const { return refused; }
  std::unique_ptr<HttpConnectionBudget> budget;  // made in start(), from opts

  struct Session;
  // Connections waiting for or reading a request (idle, head or body), the
  // longest-waiting first: at max_connections the first makes room.
  std::mutex reading_mu;
  std::list<std::weak_ptr<Session>> reading;

  // Connections refused at accept, logged at most once per 10 s.
  struct Refusals {
    std::mutex mu;
    uint64_t per_source = 0, full = 0, made_room = 0;
    std::string last_peer;
    Clock::time_point logged{};
  } refusals;

  // Last, so destroyed first: the io_context's destructor destroys the handlers
  // still pending, and with them sessions, which unlist themselves from
  // `reading` and release their place in `budget` (both must still exist).
  asio::io_context io;
  // The accept loop's handlers and stop()'s close run on one strand: a close
  // from another I/O thread raced the handler's is_open() (TSan, at shutdown).
  asio::strand<asio::io_context::executor_type> accept_strand{asio::make_strand(io)};
  tcp::acceptor acceptor{accept_strand};

  // Exact path first, then the longest prefix route ending in '/'; null: none.
  const Route* find_route(const std::string& path) const {
    if (auto it = routes.find(path); it != routes.end()) return &it->second;
    const Route* best = nullptr;
    size_t best_len = 0;
    for (auto& [p, r] : routes) {
      if (!p.empty() && p.back() == '/' && path.compare(0, p.size(), p) == 0 && p.size() > best_len) {
        best = &r;
        best_len = p.size();
      }
    }
    return best;
  }

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket s) {
      if (!acceptor.is_open()) return;
      if (!ec) {
        admit(std::move(s));
        accept();
        return;
      }
      // Out of descriptors (or another accept error): try again shortly
      // rather than at once, which would spin while the condition lasts.
      auto t = std::make_shared<asio::steady_timer>(accept_strand, std::chrono::milliseconds(100));
      t->async_wait([this, t](beast::error_code) { accept(); });
    });
  }

  void admit(tcp::socket s) {
    beast::error_code ec;
    auto ep = s.remote_endpoint(ec);
    if (ec) return;  // already gone; the socket closes here
    std::string source = source_of(ep.address());
    std::string peer = ep.address().to_string();
    auto v = budget->admit(source);
    bool made_room = false;
    if (v == HttpConnectionBudget::Verdict::Full && close_longest_waiting() && budget->admit_over_total(source)) {
      v = HttpConnectionBudget::Verdict::Admit;
      made_room = true;
    }
    if (v == HttpConnectionBudget::Verdict::SourceFull)
      refuse_connection(s, 429, "Too Many Requests", "Throttling.Connections",
                        "Too many open connections from your address (at most " +
                            std::to_string(opts.max_connections_per_source) + "); close some and retry.");
    else if (v == HttpConnectionBudget::Verdict::Full)
      refuse_connection(s, 503, "Service Unavailable", "ServiceUnavailable",
                        "The server has too many open connections; retry shortly.");
    if (v != HttpConnectionBudget::Verdict::Admit || made_room) note_refusal(v, made_room, peer);
    if (v == HttpConnectionBudget::Verdict::Admit) {
      auto session = std::make_shared<Session>(this, std::move(s), std::move(source), std::move(peer));
      // On its own strand from the start, like everything else it does.
      asio::dispatch(session->stream.get_executor(), [session] { session->read(); });
    }
  }

  // At max_connections: closes the connection that has waited longest for (or
  // on) a request, if it has waited a while. A connection being answered is
  // never closed. False if there is none to close.
  bool close_longest_waiting() {
    std::shared_ptr<Session> victim;
    {
      std::lock_guard lk(reading_mu);
      // An expired entry belongs to a session being destroyed, which unlists itself.
      for (auto it = reading.begin(); it != reading.end(); ++it) {
        victim = it->lock();
        if (!victim) continue;
        if (Clock::now() - victim->reading_since < std::chrono::seconds(1)) return false;
        victim->listed = false;
        reading.erase(it);
        break;
      }
    }
    if (!victim) return false;
    asio::post(victim->stream.get_executor(), [victim] {
      if (!victim->in_read) return;  // it finished its request meanwhile: let it be
      victim->evicted = true;
      victim->stream.close();  // its pending read ends with operation_aborted
    });
    return true;
  }

  void note_refusal(HttpConnectionBudget::Verdict v, bool made_room, const std::string& peer) {
    std::lock_guard lk(refusals.mu);
    if (made_room) ++refusals.made_room;
    else if (v == HttpConnectionBudget::Verdict::SourceFull) ++refusals.per_source;
    else ++refusals.full;
    if (v == HttpConnectionBudget::Verdict::SourceFull) refusals.last_peer = peer;
    const auto now = Clock::now();
    if (now - refusals.logged < std::chrono::seconds(10)) return;
    refusals.logged = now;
    log::warn("http: since the last report {} connections refused over [http] max_connections_per_source = {}{}{}, "
              "{} refused at [http] max_connections = {}, {} waiting connections closed to make room",
              refusals.per_source, opts.max_connections_per_source,
              refusals.last_peer.empty() ? "" : " (last from ", refusals.last_peer.empty() ? "" : refusals.last_peer + ")",
              refusals.full, opts.max_connections, refusals.made_room);
    refusals.per_source = refusals.full = refusals.made_room = 0;
    refusals.last_peer.clear();
  }

  struct Session : std::enable_shared_from_this<Session> {
    Impl* srv;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::unique_ptr<http::request_parser<http::string_body>> parser;
    http::response<http::string_body> res;
    const std::string source;  // the budget's key
    const std::string peer;
    bool linger = false;  // refused mid-request: drain what the client still sends before closing
    size_t drained = 0;
    std::array<char, 16384> sink;
    // On the session's strand: a read of a request is in progress / it was closed to make room.
    bool in_read = false;
    bool evicted = false;
    // Under srv->reading_mu: its place in srv->reading.
    bool listed = false;
    std::list<std::weak_ptr<Session>>::iterator reading_it;
    Clock::time_point reading_since;

    Session(Impl* s, tcp::socket sock, std::string src, std::string p)
        : srv(s), stream(std::move(sock)), source(std::move(src)), peer(std::move(p)) {}
    ~Session() {
      unlist();
      srv->budget->release(source);
    }

    void list() {
      std::lock_guard lk(srv->reading_mu);
      if (listed) return;
      reading_it = srv->reading.insert(srv->reading.end(), weak_from_this());
      reading_since = Clock::now();
      listed = true;
    }
    void unlist() {
      std::lock_guard lk(srv->reading_mu);
      if (!listed) return;
      srv->reading.erase(reading_it);
      listed = false;
    }

    // Waits for the next request: until its first byte under the idle
    // timeout, then its head and its body under their own deadlines.
    void read() {
      parser = std::make_unique<http::request_parser<http::string_body>>();
      parser->body_limit(srv->opts.max_body);
      parser->header_limit(16 * 1024);
      in_read = true;
      list();
      if (buffer.size() > 0) return read_head(Clock::now());  // pipelined: already here
      stream.expires_after(std::chrono::seconds(srv->opts.idle_timeout_seconds));
      stream.async_read_some(buffer.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
        self->buffer.commit(n);
        if (ec) return self->on_read(ec);
        self->read_head(Clock::now());
      });
    }

    void read_head(Clock::time_point first_byte) {
      stream.expires_at(first_byte + std::chrono::seconds(srv->opts.header_timeout_seconds));
      http::async_read_header(stream, buffer, *parser,
                              [self = shared_from_this(), first_byte](beast::error_code ec, size_t) {
                                if (ec) return self->on_read(ec);
                                self->read_body(first_byte);
                              });
    }

    void read_body(Clock::time_point first_byte) {
      if (parser->is_done()) return on_read({});
      stream.expires_at(first_byte + std::chrono::seconds(srv->opts.timeout_seconds));
      http::async_read(stream, buffer, *parser,
                       [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
      in_read = false;
      unlist();
      if (evicted) return;  // closed to make room for a newer connection
      if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
          (ec && !is_http_error(ec))) {
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      if (ec) {
        // Oversized or malformed: answer with a clear error, then close.
        const bool too_big = ec == http::error::body_limit || ec == http::error::header_limit;
        // The cloud's error shape, so SDKs can read it.
        const std::string request_id = new_request_id();
        std::string body = R"({"RequestId":")" + request_id + R"(","HostId":"sluice","Code":")";
        body += too_big ? "RequestEntityTooLarge\",\"Message\":\"The request exceeds the size limit (" +
                              std::to_string(srv->opts.max_body) + " bytes of body, 16 KiB of headers); send less.\"}"
                        : std::string("BadRequest\",\"Message\":\"Malformed HTTP request.\"}");
        HttpResponse r{too_big ? 413 : 400, "application/json", {}, std::move(body)};
        if (auto fn = srv->refused_fn()) {
          HttpServer::Refusal f;
          f.peer = peer;
          f.request_id = request_id;
          f.code = too_big ? "RequestEntityTooLarge" : "BadRequest";
          f.status = r.status;
          if (parser->is_header_done()) f.target = std::string(parser->get().target());
          fn(f);
        }
        linger = true;
        write(r, false);
        return;
      }
      auto& msg = parser->get();
      HttpRequest req;
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      auto q = req.target.find('?');
      req.path = req.target.substr(0, q);
      if (q != std::string::npos) req.query = req.target.substr(q + 1);
      for (const auto& f : msg) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers.emplace_back(std::move(name), std::string(f.value()));
      }
      req.body = std::move(msg.body());
      req.peer = peer;
      const bool keep_alive = msg.keep_alive();
      const Route* route = srv->find_route(req.path);
      if (route && route->async) {
        // Answered later, through the responder, on this strand again.
        auto responder = std::make_shared<Responder>(shared_from_this(), keep_alive, req.path);
        try {
          route->async(req, HttpResponder(responder));
        } catch (const std::exception& e) {
          log::error("http handler for {} failed: {}", req.path, e.what());
          HttpResponder{responder}(internal_error());
        }
        return;
      }
      HttpResponse r;
      try {
        r = route ? route->sync(req) : HttpResponse{404, "application/json", {}, R"({"Code":"NotFound","Message":"no such path"})"};
      } catch (const std::exception& e) {
        log::error("http handler for {} failed: {}", req.path, e.what());
        r = internal_error();
      }
      write(r, keep_alive);
    }

    static HttpResponse internal_error() {
      return HttpResponse{500, "application/json", {}, R"({"Code":"InternalError","Message":"internal error"})"};
    }

    // An async route's answer: work posted to the session's strand, then written.
    struct Responder : HttpResponder::State {
      std::shared_ptr<Session> session;
      bool keep_alive;
      std::string path;  // for the log
      Responder(std::shared_ptr<Session> s, bool k, std::string p)
          : session(std::move(s)), keep_alive(k), path(std::move(p)) {}
      ~Responder() override {
        if (answered.exchange(true)) return;
        log::error("http handler for {} dropped its request unanswered", path);
        answer([] { return internal_error(); });
      }
      void answer(std::function<HttpResponse()> work) override {
        asio::post(session->stream.get_executor(), [s = session, k = keep_alive, p = path, work = std::move(work)] {
          HttpResponse r;
          try {
            r = work();
          } catch (const std::exception& e) {
            log::error("http handler for {} failed: {}", p, e.what());
            r = internal_error();
          }
          s->write(r, k);
        });
      }
    };

    void write(const HttpResponse& r, bool keep_alive) {
      res = {};
      res.version(11);
      res.result(static_cast<http::status>(r.status));
      res.set(http::field::server, "sluice");
      res.set(http::field::content_type, r.content_type);
      for (const auto& [k, v] : r.headers) res.set(k, v);
      res.body() = r.body;
      res.keep_alive(keep_alive);
      res.prepare_payload();
      if (r.head_length) res.content_length(*r.head_length);
      // A client that does not read its answer is not waited for forever.
      stream.expires_after(std::chrono::seconds(srv->opts.timeout_seconds));
      http::async_write(stream, res, [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
        if (ec) return;
        if (!keep_alive) {
          beast::error_code ignored;
          self->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
          if (self->linger) {
            self->stream.expires_after(std::chrono::seconds(2));
            self->drain();
          }
          return;
        }
        self->read();
      });
    }

    // A close with unread bytes in the socket sends a reset, and a client still
    // sending an oversized body would get EPIPE instead of reading the 413. So
    // read and discard what it sends, for at most 2 s and 64 MiB, then close
    // (nginx's "lingering close").
    void drain() {
      stream.async_read_some(asio::buffer(sink), [self = shared_from_this()](beast::error_code ec, size_t n) {
        self->drained += n;
        if (!ec && self->drained < (64u << 20)) self->drain();
      });
    }
  };
};

HttpServer::HttpServer(HttpOptions opts) : impl_(std::make_unique<Impl>()) { impl_->opts = std::move(opts); }

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(const std::string& path, HttpHandler h) { impl_->routes[path] = Impl::Route{std::move(h), {}}; }

void HttpServer::route_async(const std::string& path, AsyncHttpHandler h) {
  impl_->routes[path] = Impl::Route{{}, std::move(h)};
}

void HttpServer::on_refused(std::function<void(const Refusal&)> fn) { impl_->refused = std::move(fn); }

void HttpServer::start() {
  auto& im = *impl_;
  beast::error_code ec;
  auto addr = asio::ip::make_address(im.opts.host, ec);
  if (ec) throw std::runtime_error("HTTP: bad host " + im.opts.host);
  tcp::endpoint ep(addr, static_cast<unsigned short>(im.opts.port));
  im.acceptor.open(ep.protocol(), ec);
  if (!ec) im.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) im.acceptor.bind(ep, ec);
  if (!ec) im.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen for HTTP on " + im.opts.host + ":" +
                                   std::to_string(im.opts.port) + ": " + ec.message());
  im.port = im.acceptor.local_endpoint().port();
  im.budget = std::make_unique<HttpConnectionBudget>(im.opts.max_connections, im.opts.max_connections_per_source);
  im.accept();
  for (unsigned i = 0; i < std::max(1u, im.opts.threads); ++i) im.threads.emplace_back([&im] { im.io.run(); });
  log::info("listening for http on {}:{}", im.opts.host, im.port);
}

void HttpServer::stop() {
  auto& im = *impl_;
  if (im.threads.empty()) return;
  asio::post(im.accept_strand, [&im] {
    beast::error_code ec;
    im.acceptor.close(ec);
  });
  im.io.stop();
  for (auto& t : im.threads) t.join();
  im.threads.clear();
}

int HttpServer::port() const { return impl_->port; }

uint32_t HttpServer::open_connections() const { return impl_->budget ? impl_->budget->open() : 0; }

}  // namespace sluice::api
