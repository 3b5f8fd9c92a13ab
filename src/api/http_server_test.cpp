// HttpServer's async routes (route_async): answered later from another thread,
// answered once, and never left without an answer.
#include "api/http_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <chrono>
#include <string>
#include <thread>

using namespace sluice::api;
namespace asio = boost::asio;

namespace {

// One request on a fresh connection; the whole answer (the server closes: Connection: close).
std::string get(int port, const std::string& path) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  asio::write(s, asio::buffer(req));
  std::string out;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

std::string status_line(const std::string& r) { return r.substr(0, r.find("\r\n")); }

class HttpServerAsync : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.threads = 2;
    server_ = std::make_unique<HttpServer>(o);
  }
  void TearDown() override {
    server_->stop();
    for (auto& t : workers_) t.join();
  }
  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> workers_;
};

}  // namespace

TEST_F(HttpServerAsync, AnsweredLaterFromAnotherThread) {
  server_->route_async("/later", [this](const HttpRequest&, HttpResponder respond) {
    workers_.emplace_back([respond] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      respond(HttpResponse{200, "text/plain", {}, "later"});
    });
  });
  server_->route("/now", [](const HttpRequest&) { return HttpResponse{200, "text/plain", {}, "now"}; });
  server_->start();
  const std::string r = get(server_->port(), "/later");
  EXPECT_EQ(status_line(r), "HTTP/1.1 200 OK");
  EXPECT_NE(r.find("\r\n\r\nlater"), std::string::npos) << r;
  EXPECT_NE(get(server_->port(), "/now").find("\r\n\r\nnow"), std::string::npos);
}

TEST_F(HttpServerAsync, WorkRunsOnTheServerAndItsExceptionIsA500) {
  server_->route_async("/run", [this](const HttpRequest& req, HttpResponder respond) {
    const bool fail = req.query == "fail";
    workers_.emplace_back([respond, fail] {
      respond.run([fail]() -> HttpResponse {
        if (fail) throw std::runtime_error("boom");
        return HttpResponse{201, "text/plain", {}, "ran"};
      });
    });
  });
  server_->start();
  EXPECT_EQ(status_line(get(server_->port(), "/run")), "HTTP/1.1 201 Created");
  EXPECT_EQ(status_line(get(server_->port(), "/run?fail")), "HTTP/1.1 500 Internal Server Error");
}

TEST_F(HttpServerAsync, TheFirstAnswerCounts) {
  server_->route_async("/twice", [](const HttpRequest&, HttpResponder respond) {
    respond(HttpResponse{200, "text/plain", {}, "first"});
    respond(HttpResponse{404, "text/plain", {}, "second"});
  });
  server_->start();
  const std::string r = get(server_->port(), "/twice");
  EXPECT_EQ(status_line(r), "HTTP/1.1 200 OK");
  EXPECT_EQ(r.find("second"), std::string::npos) << r;
}

TEST_F(HttpServerAsync, ARequestDroppedUnansweredGetsA500) {
  // The handler forgets its responder (every copy gone): the client is not left waiting.
  server_->route_async("/dropped", [](const HttpRequest&, HttpResponder) {});
  server_->route_async("/throws", [](const HttpRequest&, HttpResponder) { throw std::runtime_error("boom"); });
  server_->start();
  EXPECT_EQ(status_line(get(server_->port(), "/dropped")), "HTTP/1.1 500 Internal Server Error");
  EXPECT_EQ(status_line(get(server_->port(), "/throws")), "HTTP/1.1 500 Internal Server Error");
}
