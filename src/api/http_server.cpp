#include "api/http_server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <thread>

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

struct HttpServer::Impl {
  HttpOptions opts;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::map<std::string, HttpHandler> routes;
  std::vector<std::thread> threads;
  int port = 0;
  std::function<void(const HttpServer::Refusal&)> refused;  // set before start()
  const std::function<void(const HttpServer::Refusal&)>& refused_fn() const { return refused; }

  HttpResponse dispatch(const HttpRequest& req) {
    auto it = routes.find(req.path);
    if (it == routes.end()) {
      // Longest prefix route ending in '/'.
      const HttpHandler* best = nullptr;
      size_t best_len = 0;
      for (auto& [p, h] : routes) {
        if (!p.empty() && p.back() == '/' && req.path.compare(0, p.size(), p) == 0 && p.size() > best_len) {
          best = &h;
          best_len = p.size();
        }
      }
      if (!best) return HttpResponse{404, "application/json", {}, R"({"Code":"NotFound","Message":"no such path"})"};
      return (*best)(req);
    }
    return it->second(req);
  }

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket s) {
      if (!acceptor.is_open()) return;
      if (!ec) {
        std::make_shared<Session>(this, std::move(s))->read();
        accept();
        return;
      }
      // Out of descriptors (or another accept error): try again shortly
      // rather than at once, which would spin while the condition lasts.
      auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
      t->async_wait([this, t](beast::error_code) { accept(); });
    });
  }

  struct Session : std::enable_shared_from_this<Session> {
    Impl* srv;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::unique_ptr<http::request_parser<http::string_body>> parser;
    http::response<http::string_body> res;
    std::string peer;
    bool linger = false;  // refused mid-request: drain what the client still sends before closing
    size_t drained = 0;
    std::array<char, 16384> sink;

    Session(Impl* s, tcp::socket sock) : srv(s), stream(std::move(sock)) {
      beast::error_code ec;
      auto ep = stream.socket().remote_endpoint(ec);
      if (!ec) peer = ep.address().to_string();
    }

    void read() {
      parser = std::make_unique<http::request_parser<http::string_body>>();
      parser->body_limit(srv->opts.max_body);
      parser->header_limit(16 * 1024);
      stream.expires_after(std::chrono::seconds(srv->opts.timeout_seconds));
      http::async_read(stream, buffer, *parser,
                       [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
      if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof) {
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
      HttpResponse r;
      try {
        r = srv->dispatch(req);
      } catch (const std::exception& e) {
        log::error("http handler for {} failed: {}", req.path, e.what());
        r = HttpResponse{500, "application/json", {}, R"({"Code":"InternalError","Message":"internal error"})"};
      }
      write(r, msg.keep_alive());
    }

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

void HttpServer::route(const std::string& path, HttpHandler h) { impl_->routes[path] = std::move(h); }

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
  im.accept();
  for (unsigned i = 0; i < std::max(1u, im.opts.threads); ++i) im.threads.emplace_back([&im] { im.io.run(); });
  log::info("listening for http on {}:{}", im.opts.host, im.port);
}

void HttpServer::stop() {
  auto& im = *impl_;
  if (im.threads.empty()) return;
  asio::post(im.io, [&im] {
    beast::error_code ec;
    im.acceptor.close(ec);
  });
  im.io.stop();
  for (auto& t : im.threads) t.join();
  im.threads.clear();
}

int HttpServer::port() const { return impl_->port; }

}  // namespace sluice::api
