#pragma once
// MQTT over WebSocket (RFC 6455, MQTT spec 6): the HTTP upgrade handshake with
// subprotocol "mqtt", then binary frames carrying MQTT bytes. MQTT packets may
// span frames and frames may hold several packets, so the payload is just a
// byte stream for the MQTT parser.
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::net {

class WebSocketSession {
 public:
  explicit WebSocketSession(std::string path = "/mqtt") : path_(std::move(path)) {}

  // Feeds bytes from below. Before the upgrade it parses the HTTP request and
  // appends the 101 (or an error response) to `reply`. After it, it unmasks
  // frames into `payload` and answers pings and closes into `reply`.
  // Returns false when the connection must close once `reply` is sent;
  // error() says why.
  bool feed(std::string_view in, std::string& payload, std::string& reply);

  // Appends `data` as one unmasked binary frame.
  static void frame(std::string_view data, std::string& out);
  // Appends the server's Close frame (RFC 6455 5.5.1) when the server ends
  // the connection: 1000 (normal) for an MQTT ending, 1002 (protocol error)
  // after a bad frame. Nothing before the upgrade, after the peer's Close
  // (already answered) or a second time: false then.
  bool close_frame(std::string& out);

  bool open() const { return open_; }
  const std::string& host() const { return host_; }
  const std::string& error() const { return error_; }

 private:
  bool handshake(std::string& reply);
  bool deframe(std::string& payload, std::string& reply);

  std::string path_;
  std::string buf_;  // bytes not yet consumed (partial request or frame)
  std::string host_;
  std::string error_;
  bool open_ = false;
  bool closing_ = false;   // a Close frame sent (ours, or the answer to the peer's)
  uint64_t data_left_ = 0;  // bytes of the current data frame still to come
  uint8_t mask_[4] = {0, 0, 0, 0};
  size_t mask_pos_ = 0;
};

}  // namespace sluice::net
