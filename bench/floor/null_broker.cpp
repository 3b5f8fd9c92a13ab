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
// It speaks just enough MQTT 3.1.1 for sluice-bench (null_broker.hpp).
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
#include <vector>

#include "null_broker.hpp"

namespace {

struct Conn {
  int fd;
  std::string in, out;
  bool subscriber = false, dirty = false;
};

floor_bench::NullBroker<Conn> nb;

}  // namespace

int main(int argc, char** argv) {
  const int lfd = floor_bench::listen_from_args(argc, argv, SOCK_NONBLOCK);
  const int one = 1;
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
          nb.conns.emplace(c, Conn{c, {}, {}});
          epoll_event cev{};
          cev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
          cev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      auto it = nb.conns.find(fd);
      if (it == nb.conns.end()) continue;
      const ssize_t r = ::read(fd, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EAGAIN)) {
        nb.drop(fd);
        continue;
      }
      if (r > 0) {
        it->second.in.append(buf, static_cast<size_t>(r));
        if (!nb.handle(it->second)) nb.drop(fd);
      }
    }
    // One send per connection with output, as Sluice's flush_dirty(). What the socket
    // does not take is retried on the next wake-up (benchmarks only: no bound).
    static std::vector<Conn*> flushing;  // swapped with dirty: both keep their capacity
    flushing.clear();
    flushing.swap(nb.dirty);
    for (Conn* c : flushing) {
      c->dirty = false;
      const ssize_t w = ::send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
      if (w > 0) c->out.erase(0, static_cast<size_t>(w));
      if (!c->out.empty()) nb.queue(*c, {});
    }
  }
}
