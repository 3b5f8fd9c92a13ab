// What both null brokers share (null_broker.cpp on epoll, null_broker_uring.cpp on
// io_uring): the command line, the loopback listener, and the MQTT they speak, just
// enough 3.1.1 for sluice-bench. CONNECT -> CONNACK, SUBSCRIBE -> SUBACK
// (QoS 0), PINGREQ -> PINGRESP, PUBLISH copied verbatim to every subscriber, DISCONNECT
// closes. No validation: benchmarks only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace floor_bench {

// `PROGRAM PORT`: a listening socket on 127.0.0.1:PORT, or exit with a message.
inline int listen_from_args(int argc, char** argv, int type_flags) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    std::exit(2);
  }
  std::signal(SIGPIPE, SIG_IGN);
  const int fd = ::socket(AF_INET, SOCK_STREAM | type_flags, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 1024) != 0) {
    std::perror("listen");
    std::exit(1);
  }
  return fd;
}

// Conn needs: int fd; std::string in, out; bool subscriber, dirty.
template <class Conn>
struct NullBroker {
  std::unordered_map<int, Conn> conns;  // node-based: Conn* stay valid
  std::vector<Conn*> subscribers, dirty;

  // Output waits in c.out until the loop flushes the dirty connections.
  void queue(Conn& c, std::string_view bytes) {
    c.out.append(bytes);
    if (!c.dirty) {
      c.dirty = true;
      dirty.push_back(&c);
    }
  }

  void drop(int fd) {
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    std::erase(subscribers, &it->second);
    std::erase(dirty, &it->second);
    ::close(fd);
    conns.erase(it);
  }

  // Every whole packet in c.in; false when the connection is to be closed.
  bool handle(Conn& c) {
    size_t off = 0;
    while (c.in.size() - off >= 2) {
      const auto* p = reinterpret_cast<const unsigned char*>(c.in.data() + off);
      size_t len = 0, i = 1;
      for (int shift = 0;; shift += 7, ++i) {
        if (i >= c.in.size() - off) return c.in.erase(0, off), true;  // need more
        len |= size_t(p[i] & 0x7f) << shift;
        if (!(p[i] & 0x80)) break;
      }
      const size_t total = i + 1 + len;
      if (c.in.size() - off < total) break;
      switch (p[0] >> 4) {
        case 1: queue(c, std::string_view("\x20\x02\x00\x00", 4)); break;  // CONNECT
        case 3:                                                             // PUBLISH QoS 0
          for (Conn* s : subscribers) queue(*s, std::string_view(c.in.data() + off, total));
          break;
        case 8: {  // SUBSCRIBE: packet id follows the fixed header
          const char ack[5] = {char(0x90), 3, char(p[i + 1]), char(p[i + 2]), 0};
          queue(c, std::string_view(ack, 5));
          if (!c.subscriber) subscribers.push_back(&c);
          c.subscriber = true;
          break;
        }
        case 12: queue(c, std::string_view("\xd0\x00", 2)); break;  // PINGREQ
        case 14: return false;                                      // DISCONNECT
        default: break;
      }
      off += total;
    }
    c.in.erase(0, off);
    return true;
  }
};

}  // namespace floor_bench
