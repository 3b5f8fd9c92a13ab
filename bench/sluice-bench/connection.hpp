#pragma once
// One MQTT client connection on a non-blocking socket, driven by an epoll loop
// the caller owns. It only moves bytes and frames packets; what the packets
// mean is up to the ConnectionHandler (a scenario). Writes are batched: callers
// append encoded packets to out() and the loop flushes every touched
// connection once per iteration, so a burst of publishes costs one send().
#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mqtt/codec.hpp"

namespace sbench {

class Connection;

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // The TCP connection is up; send CONNECT now.
  virtual void on_open(Connection& c) = 0;
  virtual void on_packet(Connection& c, sluice::mqtt::Packet& p) = 0;
  // Called once; the socket is already closed. `why` is static text.
  virtual void on_close(Connection& c, const char* why) = 0;
};

class Connection {
 public:
  // read_buffer: initial size; it grows for big packets. Idle-connection runs
  // use a small one so the tool's own memory doesn't limit the count.
  Connection(ConnectionHandler& handler, std::vector<Connection*>& dirty, uint64_t tag,
             size_t read_buffer = 64 * 1024)
      : handler_(handler), dirty_(dirty), tag_(tag), in_(read_buffer) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts a non-blocking connect from src (if given) to dst; registers with epfd.
  // On failure returns false and error() says why (e.g. EMFILE, EADDRNOTAVAIL).
  bool open(int epfd, const sockaddr_in& dst, const sockaddr_in* src);
  // Dispatch of an epoll event for this connection.
  void on_events(uint32_t events);

  // Buffer to append encoded packets to; the connection is flushed by the loop.
  std::string& out();
  // Sends what out() holds; keeps the rest for EPOLLOUT. False if it closed.
  bool flush();
  size_t pending_out() const { return out_.size() - out_off_; }
  void close(const char* why);

  bool is_open() const { return fd_ >= 0; }
  bool tcp_connected() const { return connected_; }
  sluice::mqtt::Parser& parser() { return parser_; }
  uint64_t tag() const { return tag_; }
  const std::string& error() const { return error_; }
  int64_t last_write_ns() const { return last_write_ns_; }

 private:
  void on_readable();
  void on_writable();
  void parse_buffered();
  void want_write(bool on);

  ConnectionHandler& handler_;
  std::vector<Connection*>& dirty_;
  uint64_t tag_;
  int fd_ = -1;
  int epfd_ = -1;
  bool connected_ = false;
  bool want_write_ = false;
  bool dirty_listed_ = false;
  sluice::mqtt::Parser parser_;
  sluice::mqtt::Packet packet_;  // reused: decoding into it avoids re-constructing a variant per packet
  std::vector<uint8_t> in_;
  size_t in_start_ = 0, in_end_ = 0;
  std::string out_;
  size_t out_off_ = 0;
  int64_t last_write_ns_ = 0;
  std::string error_;
};

// Resolves a dotted IPv4 address; false if it is not one.
bool make_addr(const std::string& ip, uint16_t port, sockaddr_in& out);

}  // namespace sbench
