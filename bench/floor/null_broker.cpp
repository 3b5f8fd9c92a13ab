// sluice-null-broker: the kernel floor of Sluice's I/O design, for benchmarks only.
//
// One thread, one epoll set, edge-triggered sockets, one read per readable socket
// (a short read means drained), every PUBLISH copied verbatim to every subscriber,
// one send per subscriber per loop iteration: the same system calls per message as
// Sluice's worker loop, and nothing else (no sessions, no topic matching, no
// authentication, no allocation per message). What it costs per delivered message at
// a given offered load is what no broker built on epoll and loopback TCP can beat on
// this machine; bench/auth_compare.sh runs it beside Sluice and mosquitto so the
// distance to that floor is a number rather than a guess.
//
// It speaks just enough MQTT 3.1.1 for sluice-bench: CONNECT -> CONNACK, SUBSCRIBE
// -> SUBACK (QoS 0), PINGREQ -> PINGRESP, PUBLISH QoS 0 forwarded, DISCONNECT closes.
//
//   sluice-null-broker PORT
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

struct Conn {
  int fd;
  std::string in, out;
  bool subscriber = false, dirty = false;
};

std::unordered_map<int, Conn> conns;
std::vector<Conn*> subscribers, dirty;

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

// Returns false when the connection is to be closed.
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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 1024) != 0) {
    std::perror("listen");
    return 1;
  }
  const int ep = ::epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  static char buf[64 * 1024];
  epoll_event events[256];
  for (;;) {
    const int n = ::epoll_wait(ep, events, 256, 250);  // Sluice's loop also wakes to tick
    for (int e = 0; e < n; ++e) {
      const int fd = events[e].data.fd;
      if (fd == lfd) {
        for (int c; (c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conns.emplace(c, Conn{c, {}, {}});
          epoll_event cev{};
          cev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
          cev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      const ssize_t r = ::read(fd, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EAGAIN)) {
        drop(fd);
        continue;
      }
      if (r > 0) {
        it->second.in.append(buf, static_cast<size_t>(r));
        if (!handle(it->second)) drop(fd);
      }
    }
    // One send per connection with output, as Sluice's flush_dirty(). What the socket
    // does not take is retried on the next wake-up (benchmarks only: no bound).
    static std::vector<Conn*> flushing;  // swapped with dirty: both keep their capacity
    flushing.clear();
    flushing.swap(dirty);
    for (Conn* c : flushing) {
      c->dirty = false;
      const ssize_t w = ::send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
      if (w > 0) c->out.erase(0, static_cast<size_t>(w));
      if (!c->out.empty()) queue(*c, {});
    }
  }
}
